"""Where Stanza's own models live; stanza is imported only when a lookup needs it."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["neural_models_available"]


def _stanza_dir(models_dir: str | os.PathLike[str] | None) -> Path:
    """The Stanza resources folder: argument, ``EPI_STANZA_DIR``, then Stanza's default."""
    if models_dir is not None:
        return Path(models_dir)
    env = os.environ.get("EPI_STANZA_DIR")
    if env:
        return Path(env)
    if os.environ.get("STANZA_RESOURCES_DIR"):
        return Path(os.environ["STANZA_RESOURCES_DIR"])
    from stanza.resources.common import DEFAULT_MODEL_DIR  # imported only when needed

    return Path(DEFAULT_MODEL_DIR)


def neural_models_available(
    lang: str = "da", models_dir: str | os.PathLike[str] | None = None
) -> bool:
    """Whether Stanza's own models for ``lang`` are installed.

    Parameters
    ----------
    lang : str
        Language code.
    models_dir : path-like, optional
        Stanza resources folder (default: ``EPI_STANZA_DIR``, else Stanza's
        own default, ``$STANZA_RESOURCES_DIR`` or its user cache folder).

    Returns
    -------
    bool
        True when ``resources.json`` and the language's tokenize, lemma and
        depparse model folders exist.
    """
    root = _stanza_dir(models_dir)
    if not (root / "resources.json").is_file():
        return False
    return all((root / lang / p).is_dir() for p in ("tokenize", "lemma", "depparse"))
