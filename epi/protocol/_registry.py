"""Registration: fingerprints, lock files and the amendment rule.

The *fingerprint* is the SHA-256 of the protocol's canonical form (its
validated content, defaults filled in, as sorted compact JSON), so formatting,
comments and key order do not change it but any analysis choice does.
``epi protocol lock FILE`` writes ``FILE.lock.json``; afterwards a section may
change only if an amendment dated on or after the lock names it (TRIPOD+AI
18c/18d: registration and deviations from the protocol).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from epi.exceptions import LockError
from epi.io import atomic_write_json
from epi.protocol._models import Protocol

__all__ = [
    "LockStatus",
    "check_lock",
    "fingerprint",
    "lock_path",
    "lock_protocol",
    "section_fingerprints",
]


def _digest(obj: Any) -> str:
    text = json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def canonical(protocol: Protocol) -> dict[str, Any]:
    """The protocol's canonical form: validated content with defaults, JSON types."""
    return protocol.model_dump(mode="json")


def fingerprint(protocol: Protocol) -> str:
    """SHA-256 hex digest of the canonical form (amendments included)."""
    return _digest(canonical(protocol))


def section_fingerprints(protocol: Protocol) -> dict[str, str]:
    """One digest per top-level section, amendments excluded."""
    form = canonical(protocol)
    return {name: _digest(value) for name, value in form.items() if name != "amendments"}


def lock_path(protocol_path: str | Path) -> Path:
    """``study.yaml`` → ``study.yaml.lock.json``."""
    p = Path(protocol_path)
    return p.with_name(p.name + ".lock.json")


def lock_protocol(protocol: Protocol, protocol_path: str | Path) -> Path:
    """Write the lock file next to the protocol and return its path.

    Parameters
    ----------
    protocol : Protocol
        The validated protocol.
    protocol_path : str or Path
        The protocol file being locked.
    """
    from epi import __version__

    record = {
        "protocol": Path(protocol_path).name,
        "study_id": protocol.study.id,
        "fingerprint": fingerprint(protocol),
        "sections": section_fingerprints(protocol),
        "epi_version": __version__,
        "locked_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    return atomic_write_json(lock_path(protocol_path), record)


@dataclass(frozen=True)
class LockStatus:
    """What a run records about the protocol's registration."""

    fingerprint: str
    locked: bool
    locked_at: str | None = None
    lock_fingerprint: str | None = None
    changed_sections: tuple[str, ...] = ()
    amendments: tuple[dict[str, str], ...] = field(default_factory=tuple)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form stamped on every artefact."""
        return {
            "fingerprint": self.fingerprint,
            "locked": self.locked,
            "locked_at": self.locked_at,
            "lock_fingerprint": self.lock_fingerprint,
            "changed_sections": list(self.changed_sections),
            "amendments": list(self.amendments),
        }


def check_lock(protocol: Protocol, protocol_path: str | Path) -> LockStatus:
    """Check a protocol against its lock file, if it has one.

    Raises
    ------
    LockError
        If a section changed since locking and no amendment dated on or after
        the lock names it.
    """
    amendments = tuple(a.model_dump(mode="json") for a in protocol.amendments)
    path = lock_path(protocol_path)
    if not path.is_file():
        return LockStatus(fingerprint(protocol), locked=False, amendments=amendments)
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
        locked_at = dt.datetime.fromisoformat(record["locked_at"])
        old = record["sections"]
    except (ValueError, KeyError, TypeError) as exc:
        raise LockError(
            f"{path}: the lock file is unreadable ({exc}). Restore it from version control, "
            f"or delete it and lock the protocol again with `epi protocol lock {protocol_path}`."
        ) from exc
    now = section_fingerprints(protocol)
    changed = sorted(k for k in set(now) | set(old) if now.get(k) != old.get(k))
    amended = {a.section for a in protocol.amendments if a.date >= locked_at.date()}
    unrecorded = [s for s in changed if s not in amended]
    if unrecorded:
        raise LockError(
            f"{protocol_path} was locked on {locked_at:%Y-%m-%d %H:%M} UTC (fingerprint "
            f"{record.get('fingerprint', '?')[:12]}…) and has changed since without an "
            f"amendment in section(s): {', '.join(unrecorded)}. Record each change under "
            "'amendments:' (date, section, what, why), or undo the change."
        )
    return LockStatus(
        fingerprint(protocol),
        locked=True,
        locked_at=record["locked_at"],
        lock_fingerprint=record.get("fingerprint"),
        changed_sections=tuple(changed),
        amendments=amendments,
    )
