"""What every part of the report shares: the bundle, the generated pieces, count masking."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from epi.disclosure import mask_count
from epi.format import fmt_num
from epi.report._bundle import OPTIONAL_FILES, Bundle
from epi.report._figures import FigureFile, save_figure
from epi.report._markdown import escape, md_figure

__all__ = ["Content", "Sections", "horizon_text"]

_COUNT_TEXT = re.compile(r"^(<\d+|\d[\d,]*|–)$")


@dataclass
class Content:
    """The report's generated pieces (file name → Markdown) and figures."""

    variables: dict[str, Any] = field(default_factory=dict)
    metadata: dict[str, Any] = field(default_factory=dict)
    parts: dict[str, str] = field(default_factory=dict)
    tables: dict[str, str] = field(default_factory=dict)
    figures: list[FigureFile] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def horizon_text(days: Any) -> str:
    """``365`` → ``1 year (365 days)``."""
    try:
        d = int(days)
    except (TypeError, ValueError):
        return "the protocol's horizon"
    years = d / 365.25
    if abs(years - round(years)) < 0.01 and round(years) >= 1:
        y = round(years)
        return f"{y} year{'s' if y > 1 else ''} ({d} days)"
    return f"{d} days"


class Sections:
    """The bundle a report is built from and the pieces built so far.

    Each part module's functions take this and add Markdown parts, tables and
    figures to ``content``.
    """

    def __init__(self, bundle: Bundle, figures_dir: Path) -> None:
        self.bundle = bundle
        self.min_cell = bundle.min_cell
        self.figures_dir = figures_dir
        self.content = Content()
        self.horizon = horizon_text(
            (bundle.get("performance") or {}).get("horizon_days")
            or bundle.section("outcome", "horizon_days")
        )
        #: The protocol's first model, the one the abstract and subgroup plot show.
        self.primary = str((bundle.section("models", default=[{}]) or [{}])[0].get("name", ""))

    def count(self, n: Any) -> str:
        """A person count, masked below the minimum cell size."""
        if isinstance(n, str):  # already masked upstream
            return n.strip() if _COUNT_TEXT.match(n.strip()) else escape(n)
        if n is None:
            return "–"
        return mask_count(n, self.min_cell)

    def part(self, name: str, text: str) -> None:
        """Store the text part ``parts/<name>.md``."""
        self.content.parts[name] = text.strip() + "\n"

    def table(self, name: str, text: str) -> None:
        """Store the table ``tables/<name>.md``."""
        self.content.tables[name] = text.strip() + "\n"

    def figure(self, name: str, fig_fn: Callable[[], Any], caption: str, alt: str) -> str:
        """Draw and save ``figures/<name>.svg`` (and PNG); return its Markdown."""
        ff = save_figure(fig_fn(), self.figures_dir, name, caption, alt)
        self.content.figures.append(ff)
        return md_figure(f"figures/{name}.svg", caption=caption, label=f"fig-{name}", alt=alt)

    def absent(self, name: str) -> str:
        """Why a part is missing: the bundle file ``name`` is absent."""
        return f"{OPTIONAL_FILES[name]} is absent from this run's results bundle"

    # ---------------------------------------------------- the study, in words
    # Every sentence that depends on the kind of study is built from these, from the
    # protocol and the bundle; none is a constant written for one kind of study.

    @property
    def source(self) -> str:
        """``synthetic``, ``tables`` or ``analysis_table`` (the protocol's data source)."""
        return str(self.bundle.section("data", "source", default="synthetic"))

    @property
    def registers(self) -> bool:
        """Whether the run built a cohort from register-like tables (not an analysis table)."""
        return self.source != "analysis_table"

    def outcome_name(self) -> str:
        """The outcome's name in words (``unplanned admission``), or ``the outcome``."""
        name = str(self.bundle.section("outcome", "name", default="") or "")
        return escape(name.replace("_", " ")) if name and name != "outcome" else "the outcome"

    def population(self) -> str:
        """Who the model is for, from the eligibility criteria (registers) or the table."""
        if not self.registers:
            return "the persons of the analysis table"
        elig = self.bundle.section("cohort", "eligibility", default={}) or {}
        pop = "adults"
        if elig.get("age_min") is not None:
            pop += f" aged {fmt_num(elig['age_min'], 0)} or more"
        if elig.get("home_dwelling"):
            pop = "home-dwelling " + pop
        return pop

    def data_in_words(self) -> str:
        """One sentence on where the data come from."""
        if self.source == "synthetic":
            return "Synthetic Danish cross-sector data generated by epi (not real persons)."
        if self.source == "tables":
            return (
                "Routine-care tables of general practice, hospitals and municipalities, "
                "linked by person and checked against epi's data specifications."
            )
        return "One analysis table with one row per person (time, event and predictors)."

    def validations_done(self) -> list[str]:
        """The internal validations this run performed, in words."""
        perf = self.bundle.get("performance") or {}
        done = []
        if perf.get("bootstrap"):
            done.append(f"{perf['bootstrap']} bootstrap resamples (optimism correction)")
        if perf.get("folds"):
            done.append(f"{perf['folds']}-fold cross-validation")
        models = [v for _, _, v in self.perf_rows()]
        if any(v.get("temporal") for v in models):
            done.append("temporal validation")
        if perf.get("internal_external_by") and any(v.get("internal_external") for v in models):
            done.append(f"internal–external validation by {escape(perf['internal_external_by'])}")
        return done

    def perf_rows(self) -> list[tuple[str, str, dict[str, Any]]]:
        """(arm, model, measures by validation) of ``results/performance.json``, in the
        protocol's order of arms (``arm_order``) and models (the bundle's JSON maps are
        written with sorted keys)."""
        perf = self.bundle.get("performance") or {}
        arms = perf.get("arms") or {}
        arm_order = list(perf.get("arm_order") or [])
        model_order = [m.get("name") for m in self.bundle.section("models", default=[]) or []]

        def rank(order: list[Any], key: str) -> tuple[int, str]:
            return (order.index(key) if key in order else len(order), key)

        out = []
        for arm in sorted(arms, key=lambda a: rank(arm_order, a)):
            models = (arms[arm] or {}).get("models") or {}
            for model in sorted(models, key=lambda m: rank(model_order, m)):
                out.append((str(arm), str(model), models[model] or {}))
        return out
