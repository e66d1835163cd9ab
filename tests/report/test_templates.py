"""The Quarto templates read the same by Quarto and by epi's pandoc pre-processor."""

from __future__ import annotations

import re

from epi.report._build import templates_dir

QMD = sorted(templates_dir().glob("*.qmd"))


def test_templates_exist() -> None:
    names = {p.name for p in templates_dir().iterdir()}
    assert {"_quarto.yml", "report.qmd", "styles.css", "template.typ"} <= names
    assert len(QMD) >= 8


def test_shortcodes_are_never_inside_inline_code() -> None:
    # Quarto leaves shortcodes in code untouched; the pre-processor would not.
    for path in QMD:
        for line in path.read_text(encoding="utf-8").splitlines():
            assert not re.search(r"`[^`]*\{\{<[^`]*`", line), (path.name, line)


def test_includes_stand_on_their_own_line() -> None:
    for path in QMD:
        for line in path.read_text(encoding="utf-8").splitlines():
            if "{{< include" in line:
                assert re.fullmatch(r"\{\{< include [\w./\-]+ >\}\}", line.strip()), (
                    path.name,
                    line,
                )


def test_templates_compute_nothing() -> None:
    # No executable cells: rendering never needs a Python kernel.
    for path in QMD:
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"^```\{(python|r|julia|ojs)", text, re.MULTILINE), path.name
