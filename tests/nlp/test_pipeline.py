"""The Stanza side: processor variants, the fast Document builder, dependency scope."""

from __future__ import annotations

import pytest
from stanza.models.common import doc as sdoc

from epi.exceptions import NLPError
from epi.nlp import load_pack, neural_models_available
from epi.nlp._engine import SentenceTokens, annotate
from epi.nlp._pipeline import _fast_document, _plain_document, build_pipeline
from epi.nlp._tokenize import split_sentences, tokenize

TEXT = "Anamnese:\nPt. har åndenød.  Ingen ødemer!\nBT 145/90 , EF 35 %. Slut"


def test_fast_document_is_identical_to_stanzas_own() -> None:
    sents = split_sentences(TEXT, tokenize(TEXT))
    fast, plain = _fast_document(TEXT, sents), _plain_document(TEXT, sents)
    assert fast.to_dict() == plain.to_dict()
    assert f"{fast:C}" == f"{plain:C}"
    assert [s.text for s in fast.sentences] == [s.text for s in plain.sentences]
    assert [[t.spaces_after for t in s.tokens] for s in fast.sentences] == [
        [t.spaces_after for t in s.tokens] for s in plain.sentences
    ]
    assert (fast.num_tokens, fast.num_words) == (plain.num_tokens, plain.num_words)


def test_rule_pipeline_is_a_stanza_pipeline() -> None:
    nlp = build_pipeline("da", neural=False)
    doc = nlp(sdoc.Document([], text="Pt. har åndenød."))
    assert isinstance(doc, sdoc.Document)
    assert [w.text for w in doc.sentences[0].words] == ["Pt.", "har", "åndenød", "."]
    assert [w.lemma for w in doc.sentences[0].words] == ["patient", "have", "åndenød", "."]
    assert [m.concept for m in doc.epi_mentions] == ["dyspnoea"]


def test_neural_models_absent_gives_clear_error(tmp_path) -> None:
    assert not neural_models_available("da", tmp_path)
    with pytest.raises(
        NLPError, match=r"Stanza models for 'da' are not installed in .*stanza\.download"
    ):
        build_pipeline("da", neural=True, models_dir=str(tmp_path))


def _sentence(words: list[str], heads: list[int] | None) -> SentenceTokens:
    starts, pos = [], 0
    for w in words:
        starts.append(pos)
        pos += len(w) + 1
    return SentenceTokens(
        texts=words,
        lemmas=[w.lower() for w in words],
        starts=starts,
        ends=[s + len(w) for s, w in zip(starts, words, strict=True)],
        heads=heads,
    )


def test_dependency_scope_limits_a_trigger_to_its_subtree() -> None:
    # "pt. uden feber klager over åndenød": "uden" attaches to "feber", not
    # to "åndenød"; the window alone negates "åndenød", the parse does not.
    words = ["pt.", "uden", "feber", "klager", "over", "åndenød"]
    heads = [3, 2, 3, -1, 5, 3]  # 0-based heads, -1 = root
    pack = load_pack("da")
    text = " ".join(words)
    window = annotate(pack, text, [_sentence(words, None)])
    parsed = annotate(pack, text, [_sentence(words, heads)])
    assert [(m.concept, m.negated) for m in window] == [("dyspnoea", True)]
    assert [(m.concept, m.negated) for m in parsed] == [("dyspnoea", False)]
    # and a trigger inside the concept's own phrase still applies
    words2 = ["hun", "har", "ingen", "åndenød"]
    parsed2 = annotate(pack, " ".join(words2), [_sentence(words2, [1, -1, 3, 1])])
    assert [(m.concept, m.negated) for m in parsed2] == [("dyspnoea", True)]
