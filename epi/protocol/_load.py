"""Read a protocol file into a validated :class:`Protocol`, with useful errors."""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from epi._yaml import KeyPath, load_yaml_with_lines
from epi.exceptions import ProtocolError
from epi.protocol._models import AnalysisTableSource, Protocol, SyntheticSource, TablesSource

__all__ = ["load_protocol", "protocol_from_dict"]


_SOURCES: dict[str, type[BaseModel]] = {
    "synthetic": SyntheticSource,
    "tables": TablesSource,
    "analysis_table": AnalysisTableSource,
}


def _model_at(path: KeyPath) -> type[BaseModel] | None:
    """The pydantic model class that owns the mapping at ``path`` (None if unknown).

    ``path`` is pydantic's error location, which carries the tag of a
    discriminated union (the data ``source``) as an extra element.
    """
    model: Any = Protocol
    for key in path:
        if key in _SOURCES:
            model = _SOURCES[key]
            continue
        if isinstance(key, int) or not (isinstance(model, type) and issubclass(model, BaseModel)):
            continue
        field = model.model_fields.get(key)
        if field is None:
            return None
        model = _unwrap(field.annotation, key)
    return model if isinstance(model, type) and issubclass(model, BaseModel) else None


def _unwrap(annotation: Any, key: str) -> Any:
    """Find the BaseModel inside Optional/list/dict/Annotated annotations."""
    stack = [annotation]
    while stack:
        ann = stack.pop()
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            return ann
        stack.extend(getattr(ann, "__args__", ()) or ())
        origin_meta = getattr(ann, "__metadata__", None)
        if origin_meta is not None:
            stack.append(ann.__origin__)
    return None


def _format_path(path: KeyPath) -> str:
    out = ""
    for key in path:
        out += f"[{key}]" if isinstance(key, int) else (f".{key}" if out else str(key))
    return out or "(top level)"


def _describe(err: dict[str, Any], data: Any, lines: dict[KeyPath, int], file: str) -> str:
    loc = tuple(err["loc"])
    # pydantic puts the discriminator tag (e.g. 'synthetic') into loc for unions
    clean = tuple(k for k in loc if k not in _SOURCES)
    line = lines.get(clean) or lines.get(clean[:-1])
    where = f"{file}:{line}" if line else file
    path = _format_path(clean)
    if err["type"] == "extra_forbidden":
        parent = _model_at(loc[:-1])
        allowed = sorted(parent.model_fields) if parent else []
        key = str(clean[-1])
        near = difflib.get_close_matches(key, allowed, n=1, cutoff=0.75)
        hint = f" Did you mean '{near[0]}'?" if near else ""
        return f"{where}: unknown key '{path}'.{hint} Allowed keys here: {', '.join(allowed)}."
    if err["type"] == "missing":
        return f"{where}: required key '{path}' is missing."
    value = err.get("input")
    shown = "" if isinstance(value, dict | list) else f" (got {value!r})"
    return f"{where}: '{path}': {err['msg']}{shown}."


def protocol_from_dict(
    data: Any, *, file: str = "<protocol>", lines: dict | None = None
) -> Protocol:
    """Validate a plain mapping as a :class:`Protocol`.

    Parameters
    ----------
    data : mapping
        The parsed protocol.
    file : str
        Name used in error messages.
    lines : dict, optional
        Key path → line map from :func:`load_yaml_with_lines`.

    Returns
    -------
    Protocol

    Raises
    ------
    ProtocolError
        Listing every problem with file, line and key path.
    """
    if not isinstance(data, dict):
        raise ProtocolError(f"{file}: a protocol must be a YAML mapping with a 'study' section.")
    try:
        return Protocol.model_validate(data)
    except ValidationError as exc:
        problems = [_describe(e, data, lines or {}, file) for e in exc.errors()]
        head = f"{file}: the protocol has {len(problems)} problem(s):\n  - "
        raise ProtocolError(head + "\n  - ".join(problems)) from None


def load_protocol(path: str | Path) -> Protocol:
    """Read and validate a protocol YAML file.

    Parameters
    ----------
    path : str or Path
        The protocol file.

    Returns
    -------
    Protocol
        The validated, frozen protocol.

    Raises
    ------
    ProtocolError
        If the file is missing, not YAML, or not a valid protocol. The message names
        the file, line and key path of every problem.
    """
    data, lines = load_yaml_with_lines(path, what="protocol")
    return protocol_from_dict(data, file=str(path), lines=lines)
