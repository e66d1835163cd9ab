"""The one orchestrator of a study: run context, stages and the results bundle they write.

`run` takes a protocol through every stage (data → event store → cohort →
features and note variables → models and validation → added value →
report) into one run folder; `check` validates a protocol and its data
without running it. Each stage writes its part of the typed results bundle
(`epi.bundle`) through `RunContext.write`.
"""

from epi.study._analysis import (
    ArmModel,
    Designs,
    analyse,
    arms_of,
    comparison_settings,
    model_factory,
)
from epi.study._context import RunContext, versions
from epi.study._run import check, check_code_lists, check_models, describe_index, run

__all__ = [
    "ArmModel",
    "Designs",
    "RunContext",
    "analyse",
    "arms_of",
    "check",
    "check_code_lists",
    "check_models",
    "comparison_settings",
    "describe_index",
    "model_factory",
    "run",
    "versions",
]
