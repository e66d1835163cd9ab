"""The command line: exit codes, messages, and runs that are whole or absent."""

from __future__ import annotations

from pathlib import Path

import pytest

from epi.cli import main
from tests.tiny_tables import write_tiny_tables


def _protocol(tmp_path: Path, data_path: Path) -> Path:
    path = tmp_path / "study.yaml"
    path.write_text(
        f"study: {{id: tiny, title: Tiny study}}\ndata: {{source: tables, path: '{data_path}'}}\n",
        encoding="utf-8",
    )
    return path


def test_bad_input_exits_2_with_one_paragraph_and_no_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "study.yaml"
    path.write_text("study: {id: x, title: y, versoin: 2}\n", encoding="utf-8")
    assert main(["check", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("epi: error: ")
    assert "unknown key 'study.versoin'. Did you mean 'version'?" in err
    assert "Traceback" not in err


def test_debug_shows_the_traceback(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--debug", "check", str(tmp_path / "missing.yaml")]) == 2
    assert "Traceback" in capsys.readouterr().err


def test_internal_error_exits_1(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import epi.study

    def boom(*args: object, **kwargs: object) -> list[str]:
        raise RuntimeError("unexpected")

    monkeypatch.setattr(epi.study, "check", boom)
    assert main(["check", str(tmp_path / "x.yaml")]) == 1
    assert "internal error: RuntimeError: unexpected" in capsys.readouterr().err


def test_check_reports_every_table(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    protocol = _protocol(tmp_path, write_tiny_tables(tmp_path / "data"))
    assert main(["check", str(protocol)]) == 0
    out = capsys.readouterr().out
    assert "persons: 3 of 3 rows valid" in out
    assert "muni_falls: absent" in out


def test_missing_data_folder_is_bad_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    protocol = _protocol(tmp_path, tmp_path / "nowhere")
    assert main(["check", str(protocol)]) == 2
    assert "data folder not found" in capsys.readouterr().err


def test_run_folders_are_never_reused(tmp_path: Path) -> None:
    from epi.study._run import _run_dir

    first = _run_dir(tmp_path, "study")
    first.mkdir(parents=True)
    second = _run_dir(tmp_path, "study")
    assert second != first and second.parent == first.parent
    (second.parent / f".{second.name}.partial").mkdir()
    assert _run_dir(tmp_path, "study") not in (first, second)


def test_failed_run_leaves_nothing_behind(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # three persons and no outcome definition: the cohort stage refuses, after the
    # data and event-store stages have written their artefacts
    protocol = _protocol(tmp_path, write_tiny_tables(tmp_path / "data"))
    runs = tmp_path / "runs"
    assert main(["run", str(protocol), "--out", str(runs)]) == 2
    assert "outcome.code_lists is empty" in capsys.readouterr().err
    assert list(runs.rglob("*")) == [runs / "tiny"]


def test_lock_then_edit_refuses_to_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    protocol = _protocol(tmp_path, write_tiny_tables(tmp_path / "data"))
    assert main(["protocol", "lock", str(protocol)]) == 0
    assert Path(str(protocol) + ".lock.json").is_file()
    protocol.write_text(protocol.read_text() + "seed: 7\n", encoding="utf-8")
    assert main(["run", str(protocol), "--out", str(tmp_path / "runs")]) == 2
    assert "without an amendment in section(s): seed" in capsys.readouterr().err
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").rglob("run.json"))


def test_a_stage_whose_commands_fail_to_import_is_not_dropped_silently(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from epi import cli

    monkeypatch.setattr(cli, "STAGE_COMMANDS", (*cli.STAGE_COMMANDS, "epi.validation._absent"))
    assert cli.main(["check", "x.yaml"]) == 1
    assert (
        "ModuleNotFoundError: No module named 'epi.validation._absent'" in capsys.readouterr().err
    )


def test_warnings_print_as_one_line_without_source(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import warnings
    from types import SimpleNamespace

    from epi import cli
    from epi.exceptions import StatisticalWarning

    def warn(_args: object) -> int:
        warnings.warn("few events\nin arm 'gp'", StatisticalWarning, stacklevel=1)
        return 0

    monkeypatch.setattr(warnings, "showwarning", warnings.showwarning)  # restored afterwards
    parser = cli.build_parser()
    monkeypatch.setattr(cli, "build_parser", lambda: parser)
    monkeypatch.setattr(parser, "parse_args", lambda _argv: SimpleNamespace(func=warn))
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        assert cli.main(["check", "x.yaml"]) == 0
    err = capsys.readouterr().err
    assert err == "epi: StatisticalWarning: few events in arm 'gp'\n"
