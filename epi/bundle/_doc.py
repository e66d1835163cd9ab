"""``docs/BUNDLE.md`` written from the typed models, so the documentation cannot drift."""

from __future__ import annotations

import types
import typing
from typing import Any

from pydantic import BaseModel

from epi.bundle._models import BUNDLE_FILES, BUNDLE_VERSION, BundleFile

__all__ = ["bundle_markdown"]

INTRO = f"""\
# The results bundle of a run

<!-- Generated from epi/bundle/_models.py by `python -m epi.bundle > docs/BUNDLE.md`;
a test fails when this file and the models differ. Do not edit by hand. -->

`epi run PROTOCOL` writes `runs/<study-id>/<UTC timestamp>/`. The report is
built from these files alone (`epi report RUN_DIR`), and every one of them is
written and read through a typed model (`epi.bundle`): a file that does not
match its model — damaged, or written by another epi — stops the report with
a message naming the file and the field. Bundle version: {BUNDLE_VERSION}.

Every JSON file carries `bundle_version`, `protocol_fingerprint`, `study_id`,
`synthetic` and `epi_version`. No file holds person-level values except
`store.duckdb`, `data/` and `cohort/*.parquet`, which never enter the report.
An *Estimate* is `{{estimate, lower, upper}}`; a *count* is an integer or, below
the protocol's minimum cell size, its masked text (`"<5"`).
"""

OUTRO = """\
## Other files

| file | content |
|---|---|
| `store.duckdb` | the event store (person-level; never read by the report) |
| `cohort/cohort.parquet` | person-level cohort (never read by the report) |
| `results/models/<arm>__<model>.json` | exported model specification (TRIPOD+AI 22) |
| `results/figures/` | SVG and PNG figures of the hierarchical models |
| `report/` | `tables/*.md`, `figures/*.svg\\|png`, `report.qmd`, `report.html`, `report.pdf` |
"""


def _type(annotation: Any) -> str:
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if annotation is type(None):
        return "null"
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_type(a) for a in args)
    if origin is typing.Literal:
        return " or ".join(repr(a) for a in args)
    if origin is list:
        return f"list of {_type(args[0])}"
    if origin is dict:
        return f"map {_type(args[0])} → {_type(args[1])}"
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation.__name__
    name = getattr(annotation, "__name__", None) or str(annotation)
    return {"str": "text", "float": "number", "int": "integer", "bool": "true/false"}.get(
        name, "JSON value" if "JsonValue" in name else name
    )


def _nested(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for a in typing.get_args(annotation) for m in _nested(a)]


def _fields(model: type[BaseModel], skip: set[str]) -> list[str]:
    rows = ["| field | type | meaning |", "|---|---|---|"]
    for name, info in model.model_fields.items():
        if name in skip:
            continue
        rows.append(f"| `{name}` | {_type(info.annotation)} | {info.description or ''} |")
    return rows


def bundle_markdown() -> str:
    """The whole of ``docs/BUNDLE.md``."""
    out = [INTRO]
    stamp = set(BundleFile.model_fields)
    seen: set[type[BaseModel]] = set()
    for cls in BUNDLE_FILES.values():
        out.append(f"## `{cls.path}` ({cls.__name__})\n")
        out.append((cls.__doc__ or "").strip() + "\n")
        out += _fields(cls, stamp)
        out.append("")
        queue = [m for info in cls.model_fields.values() for m in _nested(info.annotation)]
        while queue:
            model = queue.pop(0)
            if model in seen:
                continue
            seen.add(model)
            out.append(f"### {model.__name__}\n")
            if model.__doc__ and not model.__doc__.startswith(model.__name__ + "("):
                out.append(model.__doc__.strip() + "\n")
            out += _fields(model, set())
            out.append("")
            queue += [m for info in model.model_fields.values() for m in _nested(info.annotation)]
    out.append(OUTRO)
    return "\n".join(out)
