"""The layers of epi: a module imports only from its own layer or below, and nothing cycles.

Every ``import`` in ``epi/`` counts, also those inside functions and under
``TYPE_CHECKING``: a lazy import is a dependency all the same. Layers, bottom
to top (statistics go down, presentation goes up):

0. ``epi`` (version), ``exceptions``, ``io``, ``_yaml``, ``_progress``, ``format`` (the one
   number formatter), ``disclosure``
   (the one small-cell rule)
1. ``protocol``, ``data``, ``cohort``, ``features``, ``nlp``
2. ``models``
3. ``validation`` (measures, resampling, sample size, the paired comparison)
4. ``bundle`` (the typed results bundle: the contract between stages and report)
5. ``report`` (reads only the bundle)
6. ``study`` (the one orchestrator: its last stage renders the report)
7. ``cli``

The report sits below the orchestrator rather than above it (as a first
design had it) because the orchestrator's last stage renders the report,
while the report needs nothing of the orchestrator: only the bundle.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "epi"

LAYERS: list[set[str]] = [
    {
        "epi",
        "epi.exceptions",
        "epi.io",
        "epi._yaml",
        "epi._progress",
        "epi._cores",
        "epi.disclosure",
        "epi.format",
    },
    {"epi.protocol", "epi.data", "epi.cohort", "epi.features", "epi.nlp"},
    {"epi.models"},
    {"epi.validation"},
    {"epi.bundle"},
    {"epi.report"},
    {"epi.study"},
    {"epi.cli"},
]
LAYER_OF = {unit: k for k, units in enumerate(LAYERS) for unit in units}


def _module(path: Path) -> str:
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _unit(module: str) -> str:
    """``epi.<top-level module or package>``."""
    return ".".join(module.split(".")[:2])


def module_imports() -> dict[str, set[str]]:
    """Every epi module → the epi modules it imports (absolute and relative imports)."""
    edges: dict[str, set[str]] = defaultdict(set)
    for path in ROOT.rglob("*.py"):
        module = _module(path)
        package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets: list[str] = []
            if isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                    targets = [".".join(base + ([node.module] if node.module else []))]
                else:
                    targets = [node.module or ""]
            elif isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            edges[module] |= {t for t in targets if t == "epi" or t.startswith("epi.")}
    return edges


EDGES = module_imports()


def test_every_unit_has_a_layer() -> None:
    units = {_unit(m) for m in EDGES} | {_unit(t) for ts in EDGES.values() for t in ts}
    assert units - set(LAYER_OF) == set(), "new top-level unit: give it a layer here"


def test_no_lower_layer_imports_a_higher_one() -> None:
    wrong = sorted(
        f"{source} imports {target}"
        for source, targets in EDGES.items()
        for target in targets
        if LAYER_OF[_unit(target)] > LAYER_OF[_unit(source)]
    )
    assert wrong == []


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of ``graph`` (as a path), or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_no_cycle_between_units() -> None:
    graph: dict[str, set[str]] = defaultdict(set)
    for source, targets in EDGES.items():
        graph[_unit(source)] |= {_unit(t) for t in targets if _unit(t) != _unit(source)}
    assert _cycle(graph) is None


def test_cycle_finder_finds_a_cycle() -> None:
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None


@pytest.mark.parametrize(
    ("unit", "forbidden"),
    [
        ("epi.validation", "epi.protocol"),  # the paired comparison takes plain settings
        ("epi.models", "matplotlib"),  # plotting is presentation: report
    ],
)
def test_statistics_stay_free_of_protocol_and_plotting(unit: str, forbidden: str) -> None:
    importers = sorted(
        path.relative_to(ROOT.parent).as_posix()
        for path in (ROOT / unit.split(".")[1]).rglob("*.py")
        if f"import {forbidden}" in path.read_text(encoding="utf-8")
        or f"from {forbidden}" in path.read_text(encoding="utf-8")
    )
    assert importers == []
