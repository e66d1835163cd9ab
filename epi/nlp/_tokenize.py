"""Rule-based Danish tokenizer and sentence splitter for clinical notes.

Pure functions over a string: they return character offsets, so the Stanza
processor variant in :mod:`epi.nlp._pipeline` can build a ``stanza.Document``
from them and the rule engine can map every match back to the note.

What it knows that a generic tokenizer does not:

* clinical and general Danish abbreviations that end in a period
  (``pt.``, ``obs.``, ``ua.``, ``f.eks.``, ``bl.a.``, ``p.n.``, ``tlf.`` …),
  which are one token and do not end a sentence;
* dates (``12.03.2024``, ``12/3-24``), clock times (``14.30``), decimal commas
  (``3,5``), thousands points (``1.000``), ordinals (``3.``), readings such as
  ``145/90`` (one token, so ``BT 145/90`` is two) and units split from their
  number (``35 %``, ``72kg`` → ``72`` ``kg``);
* hyphenated compounds (``KTAS-ledelsen``, ``covid-19``) are one token;
* every line break ends a sentence (clinical notes are written in lines).
"""

from __future__ import annotations

import re

__all__ = ["ABBREVIATIONS", "split_sentences", "tokenize"]

#: Abbreviations written with a final period, lower case. A period after one
#: of these belongs to the token and does not end the sentence (unless the
#: abbreviation is in ``_FINAL_OK`` and the next token starts a sentence).
ABBREVIATIONS: frozenset[str] = frozenset(
    """
    pt. pts. obs. ua. u.a. f.eks. fx. bl.a. p.n. tlf. ca. kl. nr. evt. inkl. ekskl. dvs. mht.
    pga. p.g.a. mhp. m.h.p. m.h.t. konkl. obj. rtg. st.c. st.p. st. i.v. i.m. s.c. p.o. cresc.
    hr. fr. dr. prof. mm. m.m. osv. etc. mv. m.v. jf. jvf. iht. i.h.t. stk. min. max.
    mio. mia. mill. pct. kr. kg. ml. bl. pr. a. ang. vedr. tidl. ifm. i.f.m. mdr. md.
    alm. ift. i.f.t. d. dags. d.d. aug. sept. okt. nov. dec. jan. feb. apr. jun. jul. ex.
    t.o.m. f.o.m. e.l. el. o.l. og.l. ds. sml. ff. s. sek. tab. tbl. amb. adm. udd. vh.
    phil. dr.phil. cand. cand.med. lic. afd. gl. ekstr. hosp. indl. sv. tsk. spsk. kap.
    """.split()
)

# Abbreviations that may also end a sentence ("… og lign. osv." + capital).
_FINAL_OK = frozenset({"osv.", "etc.", "mm.", "m.m.", "mv.", "m.v.", "kr.", "kg.", "ml.", "mdr."})

_LETTER = r"[^\W\d_]"
_TOKEN_RE = re.compile(
    r"""
    (?P<date>\d{1,2}[./-]\d{1,2}[./-]\d{2,4}(?!\d))                # 12.03.2024 12/3-24
    | (?P<reading>\d+(?:,\d+)?/\d+(?:,\d+)?(?![\d/]))              # 145/90
    | (?P<num>\d+(?:[.,]\d+)*(?:-\w+)*)                            # 3,5 1.000 14.30 2-liters
    | (?P<abbr>(?:"""
    + _LETTER
    + r"""{1,6}\.){2,}(?=\s|$|[-,;:)]))  # f.eks. p.n. dr.phil.
    | (?P<word>"""
    + _LETTER
    + r"""[\w]*(?:['’]"""
    + _LETTER
    + r"""+)?(?:-[\w]+)*-?)  # KTAS-ledelsen tv-
    | (?P<ellipsis>\.\.\.|…)
    | (?P<punct>[^\w\s])
    | (?P<other>_+)
    """,
    re.VERBOSE,
)

_ORDINAL_AFTER = re.compile(r"\s+" + _LETTER)
_INITIAL_NEXT = re.compile(r" [A-ZÆØÅ]")


def tokenize(text: str) -> list[tuple[int, int]]:
    """Split ``text`` into tokens.

    Parameters
    ----------
    text : str
        The note text (any length; never modified).

    Returns
    -------
    list of (int, int)
        ``(start, end)`` character offsets of each token, in order.
    """
    out: list[tuple[int, int]] = []
    append = out.append
    n = len(text)
    for m in _TOKEN_RE.finditer(text):
        kind = m.lastgroup
        start, end = m.span()
        if kind == "word":
            # a known abbreviation takes its period: "pt." "obs." "St."
            if end < n and text[end] == ".":
                if text[start : end + 1].lower() in ABBREVIATIONS:
                    append((start, end + 1))
                    continue
                if (
                    end - start == 1
                    and text[start].isupper()
                    and _INITIAL_NEXT.match(text, end + 1)
                ):
                    # an initial: "H. C. Andersen", "Paul B. Steffensen"
                    append((start, end + 1))
                    continue
            append((start, end))
            continue
        if kind == "num":
            # ordinal "3. maj", "den 2. gang": the period belongs to the number
            # when a lower-case word follows
            if end < n and text[end] == "." and "." not in m.group() and "," not in m.group():
                nxt = _ORDINAL_AFTER.match(text, end + 1)
                if nxt and text[nxt.end() - 1].islower():
                    append((start, end + 1))
                    continue
            append((start, end))
            continue
        append((start, end))
    # _TOKEN_RE consumes abbreviation periods through the word branch above;
    # drop the now-duplicated "." tokens that finditer also yielded.
    return _drop_swallowed(out)


def _drop_swallowed(tokens: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    last_end = -1
    for start, end in tokens:
        if start < last_end:
            continue
        out.append((start, end))
        last_end = end
    return out


_CLOSERS = frozenset("\"'”’»)]")

# Closed-class words that Danish writes with a capital only at a sentence
# start: seen capitalised after an unpunctuated word (a headline or a line
# that lost its full stop), they begin a new sentence.
_OPENERS = frozenset(
    """
    jeg du han hun vi de det der den denne dette disse man mit min mine hans hendes
    deres vores hvis når da men og så som nu her der hvor hvad hvem hvorfor hvordan
    hvornår efter før siden selv også alle ingen ikke mange flere nogle
    """.split()
)
# ... except after these, where a capitalised closed-class word opens a name
# ("på Det Kongelige Teater", "af De Forenede Nationer").
_NAME_INTRO = frozenset(
    """
    på i af til fra med for om ved hos mod under over efter gennem mellem uden
    og eller samt end som the of and
    """.split()
)
_ENDERS = frozenset({".", "!", "?", "...", "…"})


def split_sentences(text: str, tokens: list[tuple[int, int]]) -> list[list[tuple[int, int]]]:
    """Group tokens into sentences.

    A sentence ends at a line break, or after ``.``, ``!``, ``?`` or an
    ellipsis (plus any closing quotes or brackets) when the next token starts
    with an upper-case letter, a digit, a quote or a dash, and at an
    abbreviation from the sentence-final set (``osv.``) followed by a capital.

    Parameters
    ----------
    text : str
        The text the tokens index into.
    tokens : list of (int, int)
        Output of :func:`tokenize`.

    Returns
    -------
    list of list of (int, int)
        Sentences, each a non-empty list of token offsets.
    """
    sentences: list[list[tuple[int, int]]] = []
    current: list[tuple[int, int]] = []
    n_tok = len(tokens)
    i = 0
    while i < n_tok:
        start, end = tokens[i]
        if current and (
            text.find("\n", current[-1][1], start) != -1
            or (text[start].isupper() and _headline_break(text, tokens, i, current[-1]))
        ):
            sentences.append(current)
            current = []
        current.append((start, end))
        tok = text[start:end]
        is_end = tok in _ENDERS or (tok.lower() in _FINAL_OK)
        if is_end:
            # absorb closing quotes / brackets glued to the terminal mark
            j = i + 1
            while j < n_tok and tokens[j][0] == tokens[j - 1][1] and text[tokens[j][0]] in _CLOSERS:
                current.append(tokens[j])
                j += 1
            if j >= n_tok:
                i = j
                continue
            nxt = text[tokens[j][0] : tokens[j][1]]
            c = nxt[0]
            gap = text[tokens[j - 1][1] : tokens[j][0]]
            if gap and (c.isupper() or c.isdigit() or c in "\"'“”«»-–—(" or "\n" in gap):
                if tok.lower() in _FINAL_OK and not (c.isupper() or "\n" in gap):
                    i = j
                    continue
                sentences.append(current)
                current = []
            i = j
            continue
        i += 1
    if current:
        sentences.append(current)
    return sentences


def _headline_break(
    text: str, tokens: list[tuple[int, int]], i: int, prev: tuple[int, int]
) -> bool:
    """Whether token ``i`` (a capitalised closed-class word) opens a sentence.

    True when the previous token is a word or number ending without a mark,
    token ``i`` is a capitalised word from ``_OPENERS`` and the token after it
    is not capitalised too (which would make it part of a name).
    """
    start, end = tokens[i]
    if not text[start].isupper() or prev[1] == start:
        return False
    word = text[start:end]
    if word.lower() not in _OPENERS or (word.isupper() and len(word) > 1):
        return False
    before = text[prev[0] : prev[1]]
    if not before[-1:].isalnum() or before.lower() in _NAME_INTRO or before[:1].isupper():
        return False
    if i + 1 < len(tokens):
        nxt = text[tokens[i + 1][0] : tokens[i + 1][1]]
        if nxt[:1].isupper():
            return False
    return True
