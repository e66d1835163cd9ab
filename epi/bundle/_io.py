"""Writing and reading bundle files through their typed models."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, TypeVar

from pydantic import ValidationError

from epi.bundle._models import BUNDLE_FILES, BUNDLE_VERSION, BundleFile
from epi.exceptions import BundleError
from epi.io import atomic_write_json

__all__ = ["read_file", "validate_file", "write_file"]

F = TypeVar("F", bound=BundleFile)


def _field(loc: tuple[Any, ...]) -> str:
    return ".".join(str(part) for part in loc) or "(top level)"


def validate_file(cls: type[F], payload: Any, where: str | Path) -> F:
    """Validate ``payload`` as bundle file ``cls``; a clear `BundleError` otherwise.

    Parameters
    ----------
    cls : type of BundleFile
        The file's model (``BUNDLE_FILES``).
    payload : object
        Parsed JSON, or the writer's fields.
    where : str or Path
        The file, for the message.

    Raises
    ------
    BundleError
        Naming the file, the first failing fields and what to do; a file of
        another bundle version says which version it has.
    """
    if isinstance(payload, dict) and payload.get("bundle_version") not in (None, BUNDLE_VERSION):
        raise BundleError(
            f"{where}: bundle version {payload.get('bundle_version')!r}, but this epi reads "
            f"version {BUNDLE_VERSION}; rerun `epi run` with this epi to rebuild the run."
        )
    try:
        return cls.model_validate(payload)
    except ValidationError as exc:
        errors = exc.errors()
        shown = "; ".join(f"'{_field(e['loc'])}': {e['msg']}" for e in errors[:3])
        more = f" (and {len(errors) - 3} more)" if len(errors) > 3 else ""
        old = ""
        if isinstance(payload, dict) and "bundle_version" not in payload:
            old = " The file has no bundle_version: it was written by an older epi."
        raise BundleError(
            f"{where}: does not match the results bundle's {cls.__name__} layout: "
            f"{shown}{more}.{old} Rerun `epi run` with this epi to rebuild the run."
        ) from exc


def write_file(run_dir: str | Path, cls: type[F], stamp: dict[str, Any], **fields: Any) -> F:
    """Validate ``fields`` as ``cls`` and write it atomically to its path in ``run_dir``.

    A writer that produces a field the model does not know, or misses one,
    fails here, before anything is written.
    """
    path = Path(run_dir) / cls.path
    model = validate_file(cls, {**stamp, **fields}, cls.path)
    atomic_write_json(path, model.model_dump(mode="json"))
    return model


def read_file(run_dir: str | Path, name: str) -> BundleFile | None:
    """Read and validate bundle file ``name`` (a key of ``BUNDLE_FILES``); ``None`` if absent."""
    cls = BUNDLE_FILES[name]
    path = Path(run_dir) / cls.path
    if not path.is_file():
        return None
    try:
        payload = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise BundleError(
            f"{path}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}); the "
            "results bundle is damaged. Rerun `epi run` for this protocol."
        ) from exc
    except OSError as exc:
        raise BundleError(f"{path}: cannot be read ({exc.strerror}).") from exc
    return validate_file(cls, payload, path)
