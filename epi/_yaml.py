"""Safe YAML reading that remembers where every key came from.

Protocol and spec files are read with ``yaml.SafeLoader`` only — nothing in
them is ever constructed as a Python object or evaluated as code — and each
mapping key's line is recorded so that an error can name ``file:line`` and the
key path together.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from epi.exceptions import ProtocolError

__all__ = ["load_yaml_with_lines"]

KeyPath = tuple[str | int, ...]


def _walk(node: yaml.Node, path: KeyPath, lines: dict[KeyPath, int]) -> None:
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = key_node.value
            lines[(*path, key)] = key_node.start_mark.line + 1
            _walk(value_node, (*path, key), lines)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _walk(item, (*path, i), lines)


def load_yaml_with_lines(
    path: str | Path, *, what: str = "protocol"
) -> tuple[Any, dict[KeyPath, int]]:
    """Read a YAML file safely and return its data and a key-path → line map.

    Parameters
    ----------
    path : str or Path
        The YAML file.
    what : str
        What the file is, for error messages ("protocol", "data spec", …).

    Returns
    -------
    data : object
        The parsed document (plain dicts, lists and scalars only).
    lines : dict
        Maps each key path (tuple of keys and list indices) to its 1-based line.

    Raises
    ------
    ProtocolError
        If the file is missing, unreadable or not valid YAML.
    """
    path = Path(path)
    if not path.is_file():
        raise ProtocolError(
            f"{what} file not found: {path}. Check the path (it is relative to {Path.cwd()})."
        )
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ProtocolError(
            f"{path}: not valid UTF-8 (byte {exc.start}); save the {what} as UTF-8."
        ) from exc
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.load(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        problem = getattr(exc, "problem", None) or str(exc)
        raise ProtocolError(f"{where}: the {what} is not valid YAML ({problem}).") from exc
    lines: dict[KeyPath, int] = {}
    if node is not None:
        _walk(node, (), lines)
    return data, lines
