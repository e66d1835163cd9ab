"""Danish clinical NLP: Stanza pipeline, rule packs as data, ConText, note variables.

The only part of epi that imports stanza. Notes go in as a DataFrame; out
come a mentions table (:func:`extract_mentions`) and per-person note
variables (:func:`note_variables`, the ``notes`` feature set). Stanza objects
never leave this package.

Evaluation a clinical team can run on its own notes: :func:`evaluate`,
:func:`sample`, :func:`agreement`; and the rule-based processors' scores on a
UD treebank: :func:`ud_scores`.
"""

from __future__ import annotations

from epi.nlp._evaluate import (
    agreement,
    evaluate,
    evaluate_predictions,
    read_gold,
    sample,
    write_gold_jsonl,
)
from epi.nlp._extract import MENTION_COLUMNS, SKIP_REASONS, extract_mentions, note_variables
from epi.nlp._lemma import load_lemmatizer
from epi.nlp._models import neural_models_available
from epi.nlp._rules import load_pack
from epi.nlp._tokenize import split_sentences, tokenize
from epi.nlp._udeval import ud_scores

__all__ = [
    "MENTION_COLUMNS",
    "SKIP_REASONS",
    "agreement",
    "evaluate",
    "evaluate_predictions",
    "extract_mentions",
    "load_lemmatizer",
    "load_pack",
    "neural_models_available",
    "note_variables",
    "read_gold",
    "sample",
    "split_sentences",
    "tokenize",
    "ud_scores",
    "write_gold_jsonl",
]
