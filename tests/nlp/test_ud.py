"""Scores of the rule-based processors on the UD Danish-DDT dev set (skipped when absent).

The figures are reported in the issue note; the thresholds here guard
against regressions (aims: token F1 >= 0.99, sentence F1 >= 0.90, lemma
accuracy >= 0.90; measured 0.997, 0.886 and 0.896, so the last two aims are
not yet reached: unpunctuated headlines end no sentence, and the lexicon is
small).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from epi.nlp import ud_scores

DEV = Path(__file__).resolve().parents[3] / "shared" / "ud_danish_ddt" / "da_ddt-ud-dev.conllu"


@pytest.mark.skipif(not DEV.is_file(), reason="UD Danish-DDT dev set not present")
def test_ud_dev_scores() -> None:
    s = ud_scores(DEV)
    assert s["sentences"] == 564
    assert s["token_f1"] >= 0.99
    assert s["sentence_f1"] >= 0.88
    assert s["lemma_accuracy"] >= 0.89
