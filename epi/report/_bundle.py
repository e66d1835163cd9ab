"""Read a run's results bundle (docs/BUNDLE.md) for the report.

Only the aggregated JSON files are read; ``store.duckdb``, ``data/`` and
``cohort/*.parquet`` hold person-level values and are never opened. Every
JSON file must carry the fingerprint of the run's ``protocol.json`` so each
number in the report is traceable to the registered protocol.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from epi.bundle import BUNDLE_FILES, BundleFile, ProtocolRecord, read_file
from epi.exceptions import ReportError

__all__ = ["OPTIONAL_FILES", "Bundle", "load_bundle"]

#: Bundle files the report reads (attribute name → path in the run folder).
OPTIONAL_FILES = {name: cls.path for name, cls in BUNDLE_FILES.items() if name != "protocol"}
_STAMP = ("protocol_fingerprint", "study_id", "synthetic", "epi_version")


@dataclass(frozen=True)
class Bundle:
    """The aggregated results of one run, as read from its folder.

    Attributes
    ----------
    run_dir : Path
        The run folder.
    protocol : dict
        The canonical protocol (``protocol.json``: ``protocol``).
    lock : dict
        Registration status (``protocol.json``: ``lock``).
    stamp : dict
        ``protocol_fingerprint``, ``study_id``, ``synthetic``, ``epi_version``.
    files : dict
        Attribute name of :data:`OPTIONAL_FILES` → the file as validated by its
        typed model (`epi.bundle`) and dumped to JSON types, or ``None`` when
        the file is absent.
    models : dict
        ``results/models/<arm>__<model>.json`` file name → parsed JSON.
    typed : dict
        Attribute name → the validated model itself.
    """

    run_dir: Path
    protocol: dict[str, Any]
    lock: dict[str, Any]
    stamp: dict[str, Any]
    files: dict[str, Any] = field(default_factory=dict)
    models: dict[str, Any] = field(default_factory=dict)
    typed: dict[str, BundleFile] = field(default_factory=dict)

    def typed_file(self, name: str) -> BundleFile | None:
        """The validated model of bundle file ``name`` (`epi.bundle`), or ``None``."""
        return self.typed.get(name)

    def get(self, name: str) -> Any:
        """The parsed file ``name`` (a key of :data:`OPTIONAL_FILES`) or ``None``."""
        return self.files.get(name)

    def has(self, name: str) -> bool:
        """Whether the bundle holds file ``name``."""
        return self.files.get(name) is not None

    @property
    def fingerprint(self) -> str:
        """The protocol fingerprint every artefact carries."""
        return str(self.stamp["protocol_fingerprint"])

    @property
    def synthetic(self) -> bool:
        """Whether the run used synthetic data."""
        return bool(self.stamp.get("synthetic"))

    @property
    def min_cell(self) -> int:
        """The protocol's minimum cell size (``report.min_cell_size``, default 5)."""
        return int(self.protocol.get("report", {}).get("min_cell_size", 5))

    def section(self, *keys: str, default: Any = None) -> Any:
        """A value of the canonical protocol by key path, or ``default``."""
        node: Any = self.protocol
        for key in keys:
            if not isinstance(node, dict) or key not in node:
                return default
            node = node[key]
        return node


def _read(path: Path, run_dir: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ReportError(
            f"{path}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}). "
            f"The results bundle in {run_dir} is damaged; rerun `epi run` for this protocol."
        ) from exc
    except OSError as exc:
        raise ReportError(f"{path}: cannot be read ({exc}).") from exc


def _check_stamp(obj: Any, path: Path, fingerprint: str) -> None:
    if not isinstance(obj, dict):
        return  # a bare list carries no stamp; the run folder vouches for it
    found = obj.get("protocol_fingerprint")
    if found is not None and found != fingerprint:
        raise ReportError(
            f"{path}: protocol fingerprint {str(found)[:12]}… differs from protocol.json's "
            f"{fingerprint[:12]}…; the file comes from another run. Rebuild the run with "
            "`epi run` instead of copying files between runs."
        )


def load_bundle(run_dir: str | Path) -> Bundle:
    """Read the results bundle of a run folder.

    Parameters
    ----------
    run_dir : path
        A folder written by ``epi run`` (``runs/<study-id>/<timestamp>/``).

    Returns
    -------
    Bundle
        Files that are absent are ``None``; the report marks their sections
        as not performed.

    Raises
    ------
    ReportError
        If the folder or its ``protocol.json`` is missing, a file is not valid
        JSON, or a file's protocol fingerprint differs from the run's.
    """
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise ReportError(
            f"run folder {run_dir} not found. Pass the folder `epi run` printed "
            "(runs/<study-id>/<timestamp>)."
        )
    head = run_dir / "protocol.json"
    if not head.is_file():
        raise ReportError(
            f"{run_dir} is not a run folder: protocol.json is missing. Pass the folder `epi run` "
            "printed (runs/<study-id>/<timestamp>)."
        )
    head_model = read_file(run_dir, "protocol")
    assert isinstance(head_model, ProtocolRecord)
    meta = head_model.model_dump(mode="json")
    stamp = {k: meta[k] for k in _STAMP}
    files: dict[str, Any] = {}
    typed: dict[str, BundleFile] = {}
    for name in OPTIONAL_FILES:
        model = read_file(run_dir, name)  # validated against its typed model, or BundleError
        if model is None:
            files[name] = None
            continue
        _check_stamp(
            {"protocol_fingerprint": model.protocol_fingerprint},
            run_dir / model.path,
            stamp["protocol_fingerprint"],
        )
        typed[name] = model
        files[name] = model.model_dump(mode="json")
    models = {}
    model_dir = run_dir / "results" / "models"
    if model_dir.is_dir():
        for path in sorted(model_dir.glob("*.json")):
            obj = _read(path, run_dir)
            _check_stamp(obj, path, stamp["protocol_fingerprint"])
            models[path.name] = obj
    return Bundle(run_dir, meta["protocol"], meta["lock"], stamp, files, models, typed)


def records(obj: Any, *keys: str) -> list[dict[str, Any]]:
    """The list of records in a bundle file: the file itself or its first list under ``keys``."""
    if obj is None:
        return []
    if isinstance(obj, list):
        return [r for r in obj if isinstance(r, dict)]
    if isinstance(obj, dict):
        for key in keys:
            value = obj.get(key)
            if isinstance(value, list):
                return [r for r in value if isinstance(r, dict)]
    return []
