"""Input data: specs, checked loading, the DuckDB event store, and the synthetic population."""

from epi.data._analysis_table import (
    AnalysisTable,
    data_fingerprint,
    read_analysis_table,
    read_frame,
)
from epi.data._load import LoadReport, TableReport, build_event_store, find_table_file
from epi.data._specs import (
    ColumnSpec,
    EventMapping,
    NotesMapping,
    TableSpec,
    Vocabulary,
    load_specs,
    load_vocabularies,
    specs_dir,
)

__all__ = [
    "AnalysisTable",
    "ColumnSpec",
    "EventMapping",
    "LoadReport",
    "NotesMapping",
    "TableReport",
    "TableSpec",
    "Vocabulary",
    "build_event_store",
    "data_fingerprint",
    "find_table_file",
    "load_specs",
    "load_vocabularies",
    "read_analysis_table",
    "read_frame",
    "specs_dir",
]
