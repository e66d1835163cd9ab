"""Rule-based Danish lemmatizer: a hand-written lexicon plus inflection rules.

The lexicon (``packs/<lang>/lexicon.tsv``) lists closed-class words, irregular
verbs and nouns, and clinical vocabulary. A form not in it is lemmatized by
stripping Danish inflectional endings (``-erne``, ``-ene``, ``-en``, ``-et``,
``-er``, ``-e``, ``-ede``, ``-te``, ``-es``, ``-igt``, ``-ige``, ``-iske`` …);
where an ending allows several stems (``tæpper`` → ``tæppe`` but ``ødemer`` →
``ødem``) the candidate whose ending matches a base form in the lexicon wins,
which also lemmatizes compounds (``brystsmerterne`` → ``brystsmerte`` via
``smerte``). Lemmas are lower case except for words capitalised inside a
sentence (proper nouns), which keep their form, as in UD Danish.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from pathlib import Path

from epi.exceptions import RuleError

__all__ = ["Lemmatizer", "load_lemmatizer"]

# (ending, replacements in order of preference, default): tried longest
# ending first. A replacement whose result (or its ending, for compounds) is a
# lexicon base form wins; otherwise the replacement at index ``default`` is
# used, or the rule is skipped when ``default`` is None (too ambiguous to
# apply blind, e.g. past tense -te versus nouns such as "støtte").
_RULES: tuple[tuple[str, tuple[str, ...], int | None], ...] = (
    ("ligere", ("lig",), 0),
    ("ligste", ("lig",), 0),
    ("igere", ("ig",), 0),
    ("igste", ("ig",), 0),
    ("erede", ("ere",), 0),
    ("somme", ("som",), 0),
    ("somt", ("som",), 0),
    ("løse", ("løs",), 0),
    ("løst", ("løs",), 0),
    ("fulde", ("fuld",), 0),
    ("fuldt", ("fuld",), 0),
    ("bare", ("bar",), 0),
    ("bart", ("bar",), 0),
    ("este", ("", "e"), None),
    ("est", ("", "e"), None),
    ("ernes", ("", "e"), 0),
    ("enes", ("", "e"), 0),
    ("erne", ("", "e"), 0),
    ("ende", ("e",), 0),
    ("iske", ("isk",), 0),
    ("ede", ("e",), 0),
    ("ene", ("", "e"), 0),
    ("ige", ("ig",), 0),
    ("igt", ("ig",), 0),
    ("ske", ("sk",), 0),
    ("kke", ("k",), 0),
    ("ets", ("", "e"), 0),
    ("ens", ("", "e"), 0),
    ("ere", ("ere",), 0),
    ("es", ("e", ""), 0),
    ("er", ("e", ""), 0),
    ("en", ("", "e"), 0),
    ("et", ("e", ""), 1),
    ("te", ("e",), None),
    ("t", ("e", ""), None),
    ("s", ("",), None),
    ("e", ("",), None),
)
# Derivational endings of nouns: a stem ending in one of these takes the
# noun reading of -er/-en/-et (plural or definite), never the verb reading.
_NOUN_SUFFIXES = (
    "ning",
    "ing",
    "hed",
    "skab",
    "ion",
    "tet",
    "dom",
    "or",
    "ar",
    "ør",
    "ist",
    "ant",
    "ent",
    "ment",
    "i",
    "al",
    "el",
    "ik",
    "ur",
    "us",
    "um",
)
_MIN_STEM = 3


class Lemmatizer:
    """Map word forms to lemmas.

    Parameters
    ----------
    lexicon : dict of str to str
        Lower-case form → lemma.
    inflection : bool
        Apply the Danish inflection rules to forms not in the lexicon (True
        for Danish; other languages get the lexicon and lower-casing only).
    """

    def __init__(self, lexicon: dict[str, str], inflection: bool = True) -> None:
        self.lexicon = dict(lexicon)
        self.inflection = inflection
        self.bases = frozenset(self.lexicon.values()) | frozenset(
            k for k, v in self.lexicon.items() if k == v
        )
        self._cache: dict[str, str] = {}

    def lemma(self, form: str, sentence_initial: bool = False) -> str:
        """Return the lemma of one token.

        Parameters
        ----------
        form : str
            The token as written.
        sentence_initial : bool
            Whether it starts its sentence (a capital there is not a name).

        Returns
        -------
        str
            The lemma.
        """
        lower = form.lower()
        hit = self.lexicon.get(lower)
        if hit is not None:
            return hit
        if not form[:1].isalpha():
            return form if not form[:1].isdigit() else lower
        if form[:1].isupper() and not sentence_initial:
            # a name inside a sentence, or an acronym (BT, EF, KOL)
            return form
        if form.isupper() and len(form) > 1:
            return form
        if not self.inflection:
            return lower
        cached = self._cache.get(lower)
        if cached is None:
            cached = self._rules(lower)
            if len(self._cache) < 200_000:
                self._cache[lower] = cached
        return cached

    def _known(self, stem: str) -> bool:
        if stem in self.bases:
            return True
        # compound: a known base of >= 5 letters ends the stem
        for k in range(1, len(stem) - 4):
            if stem[k:] in self.bases:
                return True
        return False

    def _rules(self, w: str) -> str:
        if w.endswith(("'s", "’s")) and len(w) > 3:
            return w[:-2]
        if len(w) <= _MIN_STEM + 1:
            return w
        if "-" in w:
            head, tail = w.rsplit("-", 1)
            if len(tail) > _MIN_STEM and tail.isalpha():
                return head + "-" + self._rules(tail)
            return w
        for ending, reps, default in _RULES:
            if not w.endswith(ending):
                continue
            stem = w[: -len(ending)]
            if len(stem) < _MIN_STEM - (1 if ending in ("er", "en", "et") else 0):
                continue
            for rep in reps:
                for cand in (stem + rep, _undouble(stem + rep)):
                    if cand in self.bases:
                        return cand
            for rep in reps:
                if self._known(stem + rep):
                    return stem + rep
            if default is None:
                continue
            if ending in ("er", "en", "et", "erne", "ene", "ens", "ets") and (
                stem.endswith(_NOUN_SUFFIXES) or stem[-1] in "aeiouyæøå"
            ):
                return _undouble(stem)
            if stem.endswith(("ss", "d", "sk")) and ending in ("er", "en", "erne", "ens"):
                return stem + "e"  # klasser -> klasse, metoden -> metode
            if ending in ("er", "erne", "ene", "en", "et") and _undouble(stem) != stem:
                return _undouble(stem)  # venner -> ven, ryggen -> ryg, blikket -> blik
            if ending == "et" and stem.endswith("er"):
                return stem + "e"  # participle: domineret -> dominere
            return stem + reps[default]
        return w


def _undouble(stem: str) -> str:
    """``flertall`` → ``flertal``: Danish doubles a final consonant before an ending."""
    if len(stem) >= 4 and stem[-1] == stem[-2] and stem[-1] in "bdfgklmnprst":
        return stem[:-1]
    return stem


@lru_cache(maxsize=8)
def load_lemmatizer(lang: str = "da", path: str | None = None) -> Lemmatizer:
    """Load the lexicon of a language pack and build a :class:`Lemmatizer`.

    Parameters
    ----------
    lang : str
        Pack name (``"da"``); the lexicon is ``epi/nlp/packs/<lang>/lexicon.tsv``.
    path : str, optional
        A lexicon file to use instead.

    Returns
    -------
    Lemmatizer

    Raises
    ------
    RuleError
        When the file is missing or a line has more than two fields.
    """
    if path is not None:
        source = Path(path)
        if not source.is_file():
            raise RuleError(f"lexicon file {source} does not exist; pass an existing TSV file")
        text = source.read_text(encoding="utf-8")
        where = str(source)
    else:
        ref = resources.files("epi.nlp") / "packs" / lang / "lexicon.tsv"
        if not ref.is_file():
            return Lemmatizer({}, inflection=lang == "da")
        text = ref.read_text(encoding="utf-8")
        where = f"epi/nlp/packs/{lang}/lexicon.tsv"
    lexicon: dict[str, str] = {}
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        fields = line.split("\t")
        if len(fields) > 2:
            raise RuleError(
                f"{where} line {lineno}: expected 'form<TAB>lemma' or one word, "
                f"got {len(fields)} fields; fix the line"
            )
        form = fields[0].strip().lower()
        lemma = fields[1].strip() if len(fields) == 2 else form
        lexicon.setdefault(form, lemma)
    return Lemmatizer(lexicon, inflection=lang == "da")
