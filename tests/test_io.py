"""Atomic writes: whole or absent, with ordinary file permissions."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from epi.io import atomic_path, atomic_write_json, atomic_write_text


def test_interrupted_write_leaves_nothing(tmp_path: Path) -> None:
    target = tmp_path / "out" / "result.json"
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("interrupted")
    assert not target.exists()
    assert list(target.parent.iterdir()) == []


def test_previous_file_survives_a_failed_rewrite(tmp_path: Path) -> None:
    target = atomic_write_text(tmp_path / "a.txt", "old")
    with pytest.raises(ValueError), atomic_path(target) as tmp:
        tmp.write_text("new but incomplete")
        raise ValueError("disk full")
    assert target.read_text() == "old"
    assert atomic_write_json(target, {"b": 1, "a": 2}).read_text() == '{\n  "a": 2,\n  "b": 1\n}\n'


def test_written_files_get_umask_permissions(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        path = atomic_write_text(tmp_path / "report.html", "<html/>")
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
