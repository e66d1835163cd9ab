"""JSON Schema of the protocol, generated from the pydantic models."""

from __future__ import annotations

import json
from pathlib import Path

from epi.exceptions import ProtocolError
from epi.io import atomic_write_text
from epi.protocol._models import Protocol

__all__ = ["write_schema"]


def write_schema(folder: str | Path) -> Path:
    """Write ``protocol.schema.json`` into ``folder`` and return its path.

    Editors that understand JSON Schema (VS Code's YAML extension, for one) then
    complete and check protocol keys as they are typed.
    """
    if Path(folder).exists() and not Path(folder).is_dir():
        raise ProtocolError(
            f"{folder} is a file; give the folder to write protocol.schema.json into."
        )
    schema = Protocol.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "epi study protocol"
    text = json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    return atomic_write_text(Path(folder) / "protocol.schema.json", text)
