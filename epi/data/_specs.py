"""Data specs: one YAML file per input table in ``data_specs/``.

A spec lists the table's columns (type, nullability, pattern, allowed values,
code vocabulary, value range, foreign key), its primary key, the columns that
must fall within the person's life (``person_dates``), and how its rows enter
the event store (``events`` or ``notes``). Specs are data with closed
vocabularies: unknown keys are errors.
"""

from __future__ import annotations

import os
import re
from functools import cache
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from epi._yaml import load_yaml_with_lines
from epi.exceptions import SpecError

__all__ = [
    "ColumnSpec",
    "EventMapping",
    "NotesMapping",
    "TableSpec",
    "Vocabulary",
    "load_specs",
    "load_vocabularies",
    "specs_dir",
]

ColumnType = Literal["string", "integer", "float", "date", "datetime", "boolean"]


class _Spec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Vocabulary(_Spec):
    """A code system and the pattern its codes follow."""

    name: str
    description: str
    pattern: str

    def matches(self, code: str) -> bool:
        """Whether ``code`` is a valid full code of this vocabulary."""
        return re.fullmatch(self.pattern, code) is not None


class ColumnSpec(_Spec):
    """One column of an input table."""

    name: str
    type: ColumnType
    nullable: bool = False
    pattern: str | None = None
    allowed: list[str | int | float | bool] | None = None
    vocabulary: str | None = None
    min: float | str | None = None
    max: float | str | None = None
    references: Annotated[str, Field(pattern=r"^[a-z_0-9]+\.[a-z_0-9]+$")] | None = None
    description: str = ""


class Literal_(_Spec):
    literal: str


class DaysBetween(_Spec):
    days_between: tuple[str, str]


ValueSource = str | Literal_ | DaysBetween


class EventMapping(_Spec):
    """How one row becomes one row of the event store's ``events`` table."""

    time: str
    vocabulary: str
    code: ValueSource
    value_num: ValueSource | None = None
    value_text: ValueSource | None = None
    ref: str | None = None  # groups events of one contact (diagnoses ↔ their admission)


class NotesMapping(_Spec):
    """How one row becomes one row of the event store's ``notes`` table."""

    time: str
    note_type: str
    text: str


class TableSpec(_Spec):
    """The spec of one input table."""

    table: Annotated[str, Field(pattern=r"^[a-z][a-z_0-9]*$")]
    sector: Literal["population", "gp", "hospital", "municipal"]
    description: str
    real_source: str = ""
    primary_key: list[str] = Field(min_length=1)
    person_dates: list[str] = Field(default_factory=list)
    columns: list[ColumnSpec] = Field(min_length=1)
    events: list[EventMapping] = Field(default_factory=list)
    notes: NotesMapping | None = None

    @property
    def column_names(self) -> list[str]:
        """Column names in spec order."""
        return [c.name for c in self.columns]

    def column(self, name: str) -> ColumnSpec:
        """The spec of column ``name``."""
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(name)

    @model_validator(mode="after")
    def _refer_to_own_columns(self) -> TableSpec:
        names = set(self.column_names)
        used: list[str] = [*self.primary_key, *self.person_dates]
        for m in self.events:
            used.append(m.time)
            if m.ref:
                used.append(m.ref)
            for v in (m.code, m.value_num, m.value_text):
                if isinstance(v, str):
                    used.append(v)
                elif isinstance(v, DaysBetween):
                    used.extend(v.days_between)
        if self.notes:
            used += [self.notes.time, self.notes.note_type, self.notes.text]
        unknown = sorted(set(used) - names)
        if unknown:
            raise ValueError(f"refers to columns {unknown} that the spec does not define")
        return self


def specs_dir() -> Path:
    """The ``data_specs/`` folder: ``$EPI_DATA_SPECS`` or the one beside the package."""
    env = os.environ.get("EPI_DATA_SPECS")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[2] / "data_specs"


def _validate(model: type[BaseModel], data: Any, file: Path) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(k) for k in e['loc']) or '(top)'}: {e['msg']}" for e in exc.errors()
        )
        raise SpecError(f"{file}: invalid data spec: {problems}") from None


@cache
def _load_vocabularies(folder: str) -> dict[str, Vocabulary]:
    path = Path(folder) / "_vocabularies.yaml"
    data, _ = load_yaml_with_lines(path, what="vocabulary list")
    return {
        name: _validate(Vocabulary, {"name": name, **body}, path) for name, body in data.items()
    }


def load_vocabularies(folder: str | Path | None = None) -> dict[str, Vocabulary]:
    """Read ``_vocabularies.yaml`` from the specs folder.

    Returns
    -------
    dict
        Vocabulary name → :class:`Vocabulary`.
    """
    return _load_vocabularies(str(folder or specs_dir()))


@cache
def _load_specs(folder: str) -> dict[str, TableSpec]:
    root = Path(folder)
    if not root.is_dir():
        raise SpecError(f"data specs folder not found: {root}. Set EPI_DATA_SPECS to its path.")
    vocabularies = _load_vocabularies(folder)
    specs: dict[str, TableSpec] = {}
    for path in sorted(root.glob("*.yaml")):
        if path.name.startswith("_"):
            continue
        data, _ = load_yaml_with_lines(path, what="data spec")
        spec = _validate(TableSpec, data, path)
        if spec.table != path.stem:
            raise SpecError(f"{path}: table '{spec.table}' must match the file name '{path.stem}'.")
        vocabs = [c.vocabulary for c in spec.columns if c.vocabulary]
        vocabs += [m.vocabulary for m in spec.events]
        unknown = sorted(set(vocabs) - set(vocabularies))
        if unknown:
            raise SpecError(
                f"{path}: unknown code vocabulary {unknown}; known: {sorted(vocabularies)}."
            )
        specs[spec.table] = spec
    return specs


def load_specs(folder: str | Path | None = None) -> dict[str, TableSpec]:
    """Read every table spec in the specs folder.

    Parameters
    ----------
    folder : path, optional
        Defaults to :func:`specs_dir`.

    Returns
    -------
    dict
        Table name → :class:`TableSpec`, in dependency order (a table comes
        after every table it references).
    """
    specs = _load_specs(str(folder or specs_dir()))
    ordered: dict[str, TableSpec] = {}

    def visit(name: str, trail: tuple[str, ...] = ()) -> None:
        if name in ordered:
            return
        if name in trail:
            raise SpecError(f"data specs reference each other in a cycle: {' -> '.join(trail)}")
        for col in specs[name].columns:
            if col.references:
                target = col.references.split(".")[0]
                if target not in specs:
                    raise SpecError(f"{name}.{col.name} references unknown table '{target}'.")
                if target != name:
                    visit(target, (*trail, name))
        ordered[name] = specs[name]

    for name in specs:
        visit(name)
    return ordered
