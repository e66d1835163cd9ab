"""Render the report folder to HTML and PDF.

With a ``quarto`` binary on PATH, ``quarto render`` does everything. Without
it, :func:`preprocess` turns the Quarto project into plain pandoc Markdown —
it resolves ``{{< include >}}`` and ``{{< var >}}`` shortcodes, numbers figures
and tables in document order and replaces ``@fig-…``/``@tbl-…`` references
with numbered links — and pandoc (``pypandoc_binary``) writes self-contained
HTML, and Typst source that the ``typst`` package compiles to PDF. Both paths
read the same ``.qmd`` files.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import yaml

from epi.exceptions import ReportError
from epi.io import atomic_path, atomic_write_text

__all__ = ["FORMATS", "preprocess", "render"]

FORMATS = ("html", "pdf")
_INCLUDE = re.compile(r"\{\{<\s*include\s+(\S+)\s*>\}\}")
_VAR = re.compile(r"\{\{<\s*var\s+([\w.\-]+)\s*>\}\}")
_FIGURE = re.compile(
    r"!\[(?P<cap>(?:[^\]\\]|\\.)*)\]\((?P<src>[^)\s]+)\)\{#(?P<id>fig-[\w\-]+)(?P<attrs>[^}]*)\}"
)
_TABLE_CAPTION = re.compile(r"^: (?P<cap>.*?)\s*\{#(?P<id>tbl-[\w\-]+)\}\s*$", re.MULTILINE)
_REF = re.compile(r"(?<![\w\\\[])@(?P<id>(?:fig|tbl)-[\w\-]*[\w])")
_BANNER = re.compile(
    r"^:::+ \{[^}]*\.synthetic-banner[^}]*\}\n.*?^:::+\s*$", re.MULTILINE | re.DOTALL
)


def _resolve_includes(path: Path, root: Path, stack: tuple[Path, ...] = ()) -> str:
    if path in stack:
        chain = " → ".join(p.name for p in (*stack, path))
        raise ReportError(f"report template: include cycle {chain}.")
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        including = stack[-1].name if stack else "report.qmd"
        raise ReportError(
            f"report template {including}: included file {path.relative_to(root)} cannot be "
            f"read ({exc.strerror}). Rebuild the report with `epi report RUN_DIR`."
        ) from exc
    if stack:  # included files contribute their body only
        text = re.sub(r"\A---\n.*?\n---\n", "", text, flags=re.DOTALL)

    def sub(match: re.Match[str]) -> str:
        target = (path.parent / match.group(1)).resolve()
        if not target.exists():
            target = (root / match.group(1)).resolve()
        return _resolve_includes(target, root, (*stack, path))

    return _INCLUDE.sub(sub, text)


def _variables(root: Path) -> dict[str, Any]:
    path = root / "_variables.yml"
    if not path.is_file():
        return {}
    return yaml.safe_load(path.read_text(encoding="utf-8")) or {}


def _lookup(variables: dict[str, Any], key: str) -> str:
    node: Any = variables
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            raise ReportError(
                f"report template: {{{{< var {key} >}}}} is not defined in _variables.yml; "
                "the template and epi's report builder disagree (a bug in epi)."
            )
        node = node[part]
    return str(node)


def preprocess(root: Path, target: str, main: str = "report.qmd") -> tuple[str, list[str]]:
    """Turn the Quarto project into one pandoc Markdown document.

    Parameters
    ----------
    root : Path
        The report folder (holding ``report.qmd`` and the generated pieces).
    target : {"html", "typst"}
        The output the Markdown is meant for.
    main : str
        The main document.

    Returns
    -------
    text : str
        Markdown with includes and variables resolved, figures and tables
        numbered (``Figure 1: …``, ``Table 1: …``) and cross-references
        replaced with numbered links.
    unresolved : list of str
        Cross-references whose target is not in the document; they are
        replaced with "(not available in this run)" rather than failing.
    """
    text = _resolve_includes((root / main).resolve(), root.resolve())
    variables = _variables(root)
    text = _VAR.sub(lambda m: _lookup(variables, m.group(1)), text)
    # The pandoc paths draw the synthetic-data banner themselves: before the
    # title in HTML (parts/banner.html) and on every page in the Typst template.
    text = _BANNER.sub("", text)
    if target == "typst":  # places left for the authors: highlighted in the PDF too
        text = text.replace("]{.author-input}", "]{.mark}")
    numbers: dict[str, str] = {}

    def figure(match: re.Match[str]) -> str:
        n = sum(k.startswith("fig-") for k in numbers) + 1
        numbers[match["id"]] = f"Figure {n}"
        attrs = match["attrs"].replace("fig-alt=", "alt=")
        if target == "typst":
            attrs += ' width="100%"'
        return f"![Figure {n}: {match['cap']}]({match['src']}){{#{match['id']}{attrs}}}"

    def table(match: re.Match[str]) -> str:
        n = sum(k.startswith("tbl-") for k in numbers) + 1
        numbers[match["id"]] = f"Table {n}"
        return f": Table {n}: {match['cap']} {{#{match['id']}}}"

    # Number in document order: figures and tables are interleaved.
    found = sorted(
        [(m.start(), m.end(), figure, m) for m in _FIGURE.finditer(text)]
        + [(m.start(), m.end(), table, m) for m in _TABLE_CAPTION.finditer(text)],
        key=lambda item: item[0],
    )
    pieces, pos = [], 0
    for start, end, fn, match in found:
        pieces += [text[pos:start], fn(match)]
        pos = end
    pieces.append(text[pos:])
    text = "".join(pieces)
    unresolved: list[str] = []

    def ref(match: re.Match[str]) -> str:
        key = match["id"]
        if key not in numbers:
            unresolved.append(key)
            return "(not available in this run)"
        return f"[{numbers[key]}](#{key})"

    text = _REF.sub(ref, text)
    return text, unresolved


def _pandoc(args: list[str], source: str, cwd: Path) -> None:
    import pypandoc

    cmd = [pypandoc.get_pandoc_path(), *args]
    proc = subprocess.run(cmd, input=source, capture_output=True, text=True, cwd=cwd, check=False)
    if proc.returncode != 0:
        raise ReportError(
            f"pandoc failed (exit {proc.returncode}) rendering {cwd}: {proc.stderr.strip()[:800]}"
        )


def _render_html(root: Path) -> Path:
    text, _ = preprocess(root, "html")
    out = root / "report.html"
    banner = root / "parts" / "banner.html"
    extra = ["--include-before-body", str(banner)] if banner.is_file() else []
    with atomic_path(out) as tmp:
        _pandoc(
            ["--from", "markdown", "--to", "html5", "--standalone", "--embed-resources",
             "--wrap=none",
             "--toc", "--toc-depth=2", "--css", "styles.css", *extra,
             "--metadata-file", "_metadata.yml", "--resource-path", str(root),
             "--output", str(tmp)],
            text, root,
        )  # fmt: skip
    return out


def _render_pdf(root: Path) -> Path:
    import typst

    text, _ = preprocess(root, "typst")
    source = root / "report.typ"
    with atomic_path(source) as tmp:
        _pandoc(
            ["--from", "markdown", "--to", "typst", "--standalone", "--template", "template.typ",
             "--wrap=none",
             "--metadata-file", "_metadata.yml", "--output", str(tmp)],
            text, root,
        )  # fmt: skip
    out = root / "report.pdf"
    with atomic_path(out) as tmp:
        try:
            typst.compile(str(source), output=str(tmp), root=str(root), format="pdf")
        except Exception as exc:  # typst raises its own error types
            raise ReportError(f"typst could not compile {source}: {exc}") from exc
    return out


def _render_quarto(root: Path, quarto: str, fmt: str) -> Path:
    to = {"html": "html", "pdf": "typst"}[fmt]
    proc = subprocess.run(
        [quarto, "render", "report.qmd", "--to", to], cwd=root, capture_output=True, text=True,
        check=False,
    )  # fmt: skip
    out = root / f"report.{fmt}"
    if proc.returncode != 0 or not out.is_file():
        raise ReportError(
            f"quarto render --to {to} failed in {root} (exit {proc.returncode}): "
            f"{proc.stderr.strip()[-800:]}"
        )
    return out


def render(root: Path, formats: list[str], *, use_quarto: bool | None = None) -> dict[str, Path]:
    """Render the report folder ``root`` to each format in ``formats``.

    Parameters
    ----------
    root : Path
        The report folder.
    formats : list of {"html", "pdf"}
        Outputs to write (``report.html``, ``report.pdf``).
    use_quarto : bool, optional
        Force (True) or forbid (False) Quarto; by default Quarto is used when a
        ``quarto`` binary is on PATH.
    """
    root = Path(root).resolve()  # pandoc and quarto run inside root: no relative paths
    quarto = shutil.which("quarto")
    if use_quarto is None:
        use_quarto = quarto is not None
    if use_quarto and quarto is None:
        raise ReportError("quarto was requested but no `quarto` binary is on PATH.")
    out = {}
    for fmt in formats:
        if use_quarto:
            out[fmt] = _render_quarto(root, str(quarto), fmt)
        elif fmt == "html":
            out[fmt] = _render_html(root)
        else:
            out[fmt] = _render_pdf(root)
    return out


def write_markdown(path: Path, text: str) -> Path:
    """Write one generated Markdown piece atomically."""
    return atomic_write_text(path, text)
