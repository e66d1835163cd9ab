"""Rule-based tokenizer, sentence splitter and lemmatizer."""

from __future__ import annotations

import pytest

from epi.exceptions import RuleError
from epi.nlp import load_lemmatizer, split_sentences, tokenize


def _toks(text: str) -> list[str]:
    return [text[s:e] for s, e in tokenize(text)]


def _sents(text: str) -> list[str]:
    return [text[s[0][0] : s[-1][1]] for s in split_sentences(text, tokenize(text))]


@pytest.mark.parametrize(
    ("text", "tokens"),
    [
        ("Pt. har BT 145/90.", ["Pt.", "har", "BT", "145/90", "."]),
        ("EF 35 %, vægt 72,5kg", ["EF", "35", "%", ",", "vægt", "72,5", "kg"]),
        (
            "obs. hjertesvigt, f.eks. ved p.n.-behov",
            ["obs.", "hjertesvigt", ",", "f.eks.", "ved", "p.n.", "-", "behov"],
        ),
        ("bl.a. ua. tlf. 12345678", ["bl.a.", "ua.", "tlf.", "12345678"]),
        ("Set 12.03.2024 kl. 14.30", ["Set", "12.03.2024", "kl.", "14.30"]),
        ("Indlagt 3/4-24 med KOL-eksacerbation", ["Indlagt", "3/4-24", "med", "KOL-eksacerbation"]),
        ("den 3. maj", ["den", "3.", "maj"]),
        ("Slut.", ["Slut", "."]),
        ("1.000 mg", ["1.000", "mg"]),
        ('Han sagde: "nej"!', ["Han", "sagde", ":", '"', "nej", '"', "!"]),
    ],
)
def test_tokenize(text: str, tokens: list[str]) -> None:
    assert _toks(text) == tokens


@pytest.mark.parametrize(
    ("text", "sentences"),
    [
        ("Pt. har åndenød. Ingen ødemer.", ["Pt. har åndenød.", "Ingen ødemer."]),
        ("Obs. hjertesvigt. EF 35 %.", ["Obs. hjertesvigt.", "EF 35 %."]),
        ("Set af ca. 5 læger. Hun", ["Set af ca. 5 læger.", "Hun"]),
        ("Anamnese:\nHoste\nObjektivt: ua.", ["Anamnese:", "Hoste", "Objektivt: ua."]),
        ('Han sagde "nej." Derefter gik han.', ['Han sagde "nej."', "Derefter gik han."]),
        ("H. C. Andersen skrev. Slut", ["H. C. Andersen skrev.", "Slut"]),
        ("Hvad nu? Intet.", ["Hvad nu?", "Intet."]),
        # a headline without a full stop, then a capitalised pronoun
        ("Ny regel for besøg Hun kom i går.", ["Ny regel for besøg", "Hun kom i går."]),
        ("Pt. klager over smerter Han har feber.", ["Pt. klager over smerter", "Han har feber."]),
        # ... but a capitalised article after a preposition opens a name
        ("Hun var på Det Kongelige Teater.", ["Hun var på Det Kongelige Teater."]),
        ("De Forenede Nationer mødes.", ["De Forenede Nationer mødes."]),
    ],
)
def test_split_sentences(text: str, sentences: list[str]) -> None:
    assert _sents(text) == sentences


def test_tokenize_empty_and_whitespace() -> None:
    assert tokenize("") == []
    assert tokenize(" \n\t ") == []
    assert split_sentences("", []) == []


@pytest.mark.parametrize(
    ("form", "lemma"),
    [
        ("åndenøden", "åndenød"),
        ("ødemer", "ødem"),
        ("ødemerne", "ødem"),
        ("brystsmerterne", "brystsmerte"),
        ("havde", "have"),
        ("er", "være"),
        ("ham", "han"),
        ("patienterne", "patient"),
        ("kvinder", "kvinde"),
        ("benægter", "benægte"),
        ("udelukkes", "udelukke"),
        ("afkræftet", "afkræfte"),
        ("almindelige", "almindelig"),
        ("bilerne", "bil"),
        ("venner", "ven"),
        ("klasser", "klasse"),
        ("Pt.", "patient"),
        ("huset", "hus"),
        ("domineret", "dominere"),
        ("præget", "præge"),
        ("sagt", "sige"),
        ("lagde", "lægge"),
        ("børnene", "barn"),
        ("største", "stor"),
        ("smukke", "smuk"),
        ("morsomme", "morsom"),
        ("arbejdsløse", "arbejdsløs"),
        ("nyeste", "ny"),
        ("virksomhederne", "virksomhed"),
        ("Danmarks", "Danmark"),
        ("forfatteren", "forfatter"),
    ],
)
def test_lemma(form: str, lemma: str) -> None:
    lem = load_lemmatizer("da")
    assert lem.lemma(form, sentence_initial=True) == lemma


def test_lemma_keeps_names_inside_sentence() -> None:
    lem = load_lemmatizer("da")
    assert lem.lemma("Hansen") == "Hansen"
    assert lem.lemma("BT") == "BT"
    assert lem.lemma("35") == "35"


def test_bad_lexicon_line(tmp_path) -> None:
    bad = tmp_path / "lex.tsv"
    bad.write_text("a\tb\tc\n", encoding="utf-8")
    with pytest.raises(
        RuleError, match=r"lex\.tsv line 1: expected 'form<TAB>lemma' or one word, got 3 fields"
    ):
        load_lemmatizer("da", str(bad))
