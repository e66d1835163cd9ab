"""Added value of cross-sector data: paired comparison of arms (issue 8).

Each extended arm (e.g. GP + hospital data) is compared with a reference arm
(e.g. GP data only) fitted with the same model: differences in Harrell's
and Uno's C, time-dependent AUC, Brier score and IPA; the likelihood-ratio
test and adequacy index of nested Cox models; survival NRI (event and
non-event components, categorical and continuous) and IDI; difference in net
benefit and net interventions avoided per 100. Intervals come from a paired
bootstrap that refits every arm's whole procedure on the same resamples, and
estimates are optimism-corrected.
"""

from epi.validation.comparison._nested import likelihood_ratio_test, null_loglik
from epi.validation.comparison._paired import (
    ARM_MEASURES,
    DIFFERENCE_MEASURES,
    PAIR_STATISTICS,
    compare_arms,
    compare_predictions,
)
from epi.validation.comparison._reclassification import survival_idi, survival_nri
from epi.validation.comparison._report import (
    FOREST_STATISTICS,
    added_value_text,
    decision_curves,
    delta_net_benefit_table,
    forest_data,
    forest_figure,
    plot_delta_net_benefit,
    plot_forest,
    write_comparison,
)

__all__ = [
    "ARM_MEASURES",
    "DIFFERENCE_MEASURES",
    "FOREST_STATISTICS",
    "PAIR_STATISTICS",
    "added_value_text",
    "compare_arms",
    "compare_predictions",
    "decision_curves",
    "delta_net_benefit_table",
    "forest_data",
    "forest_figure",
    "likelihood_ratio_test",
    "null_loglik",
    "plot_delta_net_benefit",
    "plot_forest",
    "survival_idi",
    "survival_nri",
    "write_comparison",
]
