"""What a reader sees: the HTML in headless Chromium, the PDF as page images.

Skipped when the Debian packages ``chromium`` and ``poppler-utils`` are absent.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
PDFTOPPM = shutil.which("pdftoppm")


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install chromium)")
def test_html_opens_in_chromium_without_console_errors(
    built: dict[str, Path], tmp_path: Path
) -> None:
    shot = tmp_path / "report.png"
    proc = subprocess.run(
        [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}", "--enable-logging=stderr",
         "--v=0", f"--screenshot={shot}", "--window-size=1280,2000",
         built["html"].resolve().as_uri()],
        capture_output=True, text=True, timeout=90, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    errors = [
        line for line in proc.stderr.splitlines()
        if "Uncaught" in line or "ERROR:CONSOLE" in line or ":CONSOLE(" in line
    ]  # fmt: skip
    assert errors == []
    assert shot.stat().st_size > 20_000  # a rendered page, not a blank one
    keep = built["html"].parent / "screenshot.png"
    shutil.copyfile(shot, keep)  # kept next to the report for a human look


@pytest.mark.skipif(
    PDFTOPPM is None, reason="pdftoppm is not installed (apt-get install poppler-utils)"
)
def test_pdf_converts_to_page_images(built: dict[str, Path], tmp_path: Path) -> None:
    subprocess.run(
        [str(PDFTOPPM), "-r", "40", "-png", str(built["pdf"]), str(tmp_path / "page")],
        check=True, capture_output=True, timeout=90,
    )  # fmt: skip
    pages = sorted(tmp_path.glob("page-*.png"))
    assert len(pages) >= 8
    assert all(p.stat().st_size > 2_000 for p in pages)
