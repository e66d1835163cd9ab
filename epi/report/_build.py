"""``build_report``: results bundle → report folder → HTML and PDF."""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Callable, Sequence
from pathlib import Path

import yaml

from epi.exceptions import ReportError
from epi.io import atomic_write_bytes, atomic_write_text
from epi.report._bundle import load_bundle
from epi.report._render import FORMATS, preprocess, render
from epi.report.sections import build_content

__all__ = ["build_report", "templates_dir"]


def templates_dir() -> Path:
    """The Quarto project (``reports/``) the report is built from.

    ``EPI_REPORT_TEMPLATES`` overrides the default, the ``reports/`` folder of
    the source tree.
    """
    env = os.environ.get("EPI_REPORT_TEMPLATES")
    path = Path(env) if env else Path(__file__).resolve().parents[2] / "reports"
    if not (path / "report.qmd").is_file():
        raise ReportError(
            f"report templates not found: {path / 'report.qmd'} is missing. Install epi from its "
            "source tree (pip install -e .) or set EPI_REPORT_TEMPLATES to the reports/ folder."
        )
    return path


def _includes(root: Path, kind: str) -> list[str]:
    """Names of the generated ``kind/<name>.md`` files the templates include."""
    names: list[str] = []
    for path in sorted(root.glob("*.qmd")):
        text = path.read_text(encoding="utf-8")
        names += re.findall(rf"\{{\{{<\s*include\s+{kind}/([\w\-]+)\.md\s*>\}}\}}", text)
    return names


def _formats(formats: Sequence[str] | str) -> list[str]:
    if isinstance(formats, str):
        formats = [f for f in formats.split(",") if f.strip()]
    out = [f.strip().lower() for f in formats]
    bad = [f for f in out if f not in FORMATS]
    if bad:
        raise ReportError(f"unknown report format(s) {bad}; choose from {list(FORMATS)}.")
    return list(dict.fromkeys(out))


def build_report(
    run_dir: str | Path,
    formats: Sequence[str] = ("html", "pdf"),
    progress: Callable[[str], None] | None = None,
) -> dict[str, Path]:
    """Build the TRIPOD+AI report of a run and render it.

    Reads the results bundle of ``run_dir`` (docs/BUNDLE.md) and writes
    ``run_dir/report/``: ``tables/*.md``, ``figures/*.svg`` and ``*.png``
    (alt text in ``figures/index.json`` and in each file's metadata), the
    ``.qmd`` sections with their generated ``parts/*.md``, and the rendered
    ``report.html`` (self-contained) and ``report.pdf``. The folder is built
    aside and swapped into place, so an interrupted build leaves the previous
    report intact.

    Parameters
    ----------
    run_dir : path
        A run folder written by ``epi run``.
    formats : sequence of {"html", "pdf"}, or a comma-separated str
        Outputs to render; empty renders nothing (sources only).
    progress : callable, optional
        Receives one short message per step.

    Returns
    -------
    dict
        Format (``"html"``, ``"pdf"``, and ``"qmd"`` for the source) → path.

    Raises
    ------
    ReportError
        If the bundle is unreadable or inconsistent, or rendering fails.
    """
    say = progress or (lambda _msg: None)
    fmts = _formats(formats)
    run_dir = Path(run_dir)
    bundle = load_bundle(run_dir)
    final = run_dir / "report"
    stage = run_dir / f".report.{os.getpid()}.partial"
    shutil.rmtree(stage, ignore_errors=True)
    try:
        say("report: copying the Quarto templates…")
        for src in sorted(templates_dir().iterdir()):
            if src.is_file() and not src.name.startswith("."):
                atomic_write_bytes(stage / src.name, src.read_bytes())
        say("report: tables and figures from the results bundle…")
        content = build_content(bundle, stage / "figures")
        for problem in content.problems:
            say(f"report: WARNING: part of the report not built: {problem}")
        for kind, generated in (("parts", content.parts), ("tables", content.tables)):
            for name in _includes(stage, kind):
                generated.setdefault(
                    name,
                    "*Not shown: this part could not be formatted from the results bundle "
                    "(a file is shaped unlike docs/BUNDLE.md; see the build messages).*\n",
                )
            for name, text in generated.items():
                atomic_write_text(stage / kind / f"{name}.md", text)
        for name, data in (
            ("_metadata.yml", content.metadata),
            ("_variables.yml", content.variables),
        ):
            text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
            atomic_write_text(stage / name, text)
        if bundle.synthetic:
            atomic_write_text(
                stage / "parts" / "banner.html",
                '<div class="synthetic-banner" role="alert"><strong>Synthetic data: not for '
                "clinical inference.</strong> This report was produced from epi's synthetic "
                "population; its numbers say nothing about real patients.</div>\n",
            )
        index = [
            {"name": f.name, "svg": f"figures/{f.svg.name}", "png": f"figures/{f.png.name}",
             "caption": f.caption, "alt": f.alt}
            for f in content.figures
        ]  # fmt: skip
        atomic_write_text(stage / "figures" / "index.json", json.dumps(index, indent=2) + "\n")
        _, unresolved = preprocess(stage, "html")
        if unresolved:
            say(f"report: cross-references without a target: {sorted(set(unresolved))}")
        for fmt in fmts:
            say(f"report: rendering {fmt}…")
            render(stage, [fmt])
        old = run_dir / f".report.{os.getpid()}.old"
        if final.exists():
            final.rename(old)
        stage.rename(final)
        shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise
    out = {"qmd": final / "report.qmd"}
    out.update({fmt: final / f"report.{fmt}" for fmt in fmts})
    # no paths here: inside `epi run` the folder is still the hidden .partial one; the
    # run's last line (and `epi report`) names the finished files
    say(f"report: {', '.join(out)} written")
    return out
