"""The rule engine: concept matching, ConText modifiers and sections.

Works on plain lists (token texts, lemmas, offsets, optional dependency
heads) so it is independent of Stanza; :mod:`epi.nlp._pipeline` feeds it from
a ``stanza.Document``.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

from epi.nlp._rules import Pack, Target, tag_failure

__all__ = ["Mention", "SentenceTokens", "annotate", "find_sections"]


@dataclass(slots=True)
class SentenceTokens:
    """One sentence as the engine sees it."""

    texts: list[str]
    lemmas: list[str]
    starts: list[int]
    ends: list[int]
    heads: list[int] | None = None  # 0-based index of the head word, -1 for the root


@dataclass(slots=True)
class Mention:
    """A concept mention with its ConText attributes."""

    start: int
    end: int
    concept: str
    type: str
    section: str
    negated: bool = False
    uncertain: bool = False
    hypothetical: bool = False
    historical: bool = False
    experiencer: str = "patient"
    value: str | None = None


_ANY_HEADING = re.compile(r"^[ \t]*[A-ZÆØÅ][^\n:.!?]{2,40}:", re.MULTILINE)


def find_sections(pack: Pack, text: str) -> tuple[list[int], list[str]]:
    """Section headings of a note: sorted start offsets and section names.

    Text before the first heading is in section ``""``. A line that starts
    with an unknown heading (``Forløb:``) ends a section that sets context
    (a family history does not run on into the next heading), but does not
    rename a plain section (``BT:`` stays inside ``objektivt``).
    """
    starts: list[int] = [0]
    names: list[str] = [""]
    if pack.section_re is None:
        return starts, names
    found: dict[int, str] = {}
    for m in pack.section_re.finditer(text):
        heading = " ".join(m.group("h").lower().split())
        found[m.start("h")] = pack.section_by_heading.get(heading, "")
    unknown = {
        m.start() + len(m.group()) - len(m.group().lstrip()) for m in _ANY_HEADING.finditer(text)
    }
    for pos in sorted(set(found) | unknown):
        if pos in found:
            name = found[pos]
        else:
            sets = pack.section_sets.get(names[-1])
            if sets is None or (
                sets.experiencer is None and not sets.historical and not sets.hypothetical
            ):
                continue
            name = ""
        starts.append(pos)
        names.append(name)
    return starts, names


def _section_at(starts: list[int], names: list[str], offset: int) -> str:
    return names[bisect.bisect_right(starts, offset) - 1]


def _applies(mod: Target, ctype: str) -> bool:
    if mod.allowed is not None and ctype not in mod.allowed:
        return False
    return not (mod.excluded is not None and ctype in mod.excluded)


def _in_subtree(heads: list[int], node: int, root: int) -> bool:
    seen = 0
    while node != -1 and seen <= len(heads):
        if node == root:
            return True
        node = heads[node]
        seen += 1
    return False


def annotate(pack: Pack, text: str, sentences: list[SentenceTokens]) -> list[Mention]:
    """Find concept mentions and set their context.

    Parameters
    ----------
    pack : Pack
        A loaded rule pack.
    text : str
        The note text (for sections).
    sentences : list of SentenceTokens
        Tokenized, lemmatized sentences.

    Returns
    -------
    list of Mention
        In text order.

    Notes
    -----
    Scope of a modifier: from the trigger in its direction up to ``max_scope``
    tokens, stopped by a termination trigger or the sentence end. When the
    sentence has a dependency parse, a target must also lie in the subtree of
    the trigger's governor (dependency scope); otherwise the window alone
    decides. Pseudo-triggers ("ikke kun") are matched like modifiers and then
    dropped, so the words inside them trigger nothing. A section's ``sets``
    apply to every mention in it.

    An exception raised here is re-raised tagged with the rule or stage at
    work (:func:`epi.nlp._rules.tag_failure`), so a failed note can be
    reported by rule without its text.
    """
    # the stage (or rule) at work, named on an exception; never note text
    where = "sections"
    try:
        sec_starts, sec_names = find_sections(pack, text)
        cm = pack.concept_matcher
        xm = pack.context_matcher
        out: list[Mention] = []
        for sent in sentences:
            lowers = [x.lower() for x in sent.texts]
            lemmas = [x if x.islower() else x.lower() for x in sent.lemmas]
            where = "concept matching"
            targets = cm.match(lemmas, lowers, sent.texts, use_fuzzy=True)
            if not targets:
                continue
            where = "context matching"
            mods = xm.match(lemmas, lowers, sent.texts, use_fuzzy=False)
            # drop modifier triggers that overlap a concept (e.g. "ingen" inside a
            # concept literal) and pseudo-triggers
            tspans = [(s, e) for s, e, _, _ in targets]
            mods = [
                m
                for m in mods
                if m[2].direction != "pseudo" and not any(s < m[1] and m[0] < e for s, e in tspans)
            ]
            terms = [m for m in mods if m[2].direction == "terminate"]
            n = len(lemmas)
            heads = sent.heads
            for ts, te, target, value in targets:
                if target.type == "exclude":
                    continue
                where = target.rule or f"concept:{target.name}"
                start_char = sent.starts[ts]
                m = Mention(
                    start=start_char,
                    end=sent.ends[te - 1],
                    concept=target.name,
                    type=target.type,
                    section=_section_at(sec_starts, sec_names, start_char),
                    value=_norm_value(value),
                )
                for ms, me, mod, _ in mods:
                    if mod.direction == "terminate" or not _applies(mod, target.type):
                        continue
                    hit = False
                    if mod.direction in ("forward", "bidirectional") and ts >= me:
                        stop = min(n, me + mod.max_scope)
                        for t in terms:
                            if me <= t[0] < stop:
                                stop = t[0]
                        hit = ts < stop
                    if not hit and mod.direction in ("backward", "bidirectional") and te <= ms:
                        stop = max(0, ms - mod.max_scope)
                        for t in terms:
                            if te <= t[1] <= ms and t[1] > stop:
                                stop = t[1]
                        hit = te > stop
                    if hit and heads is not None:
                        gov = heads[ms] if heads[ms] != -1 else ms
                        hit = _in_subtree(heads, ts, gov) or _in_subtree(heads, gov, ts)
                    if hit:
                        _set(m, mod.name)
                sets = pack.section_sets.get(m.section)
                if sets is not None:
                    if sets.experiencer is not None and m.experiencer == "patient":
                        m.experiencer = sets.experiencer
                    if sets.historical:
                        m.historical = True
                    if sets.hypothetical:
                        m.hypothetical = True
                out.append(m)
    except Exception as exc:
        tag_failure(exc, where)
        raise
    return out


def _set(m: Mention, category: str) -> None:
    if category == "negated":
        m.negated = True
    elif category == "uncertain":
        m.uncertain = True
    elif category == "hypothetical":
        m.hypothetical = True
    elif category == "historical":
        m.historical = True
    elif category == "family":
        # a named other person ("naboens mor", "medpatient") is more specific
        # than a family cue or family-history heading around it
        if m.experiencer != "other":
            m.experiencer = "family"
    elif category == "other":
        m.experiencer = "other"


def _norm_value(value: str | None) -> str | None:
    if value is None:
        return None
    v = value.strip()
    if "/" in v:
        return "/".join(p.replace(",", ".") for p in v.split("/"))
    if v.count(",") == 1 and "." not in v:
        return v.replace(",", ".")
    return v
