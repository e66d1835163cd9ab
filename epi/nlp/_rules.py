"""Rule packs: data files of concepts, ConText modifiers and section headings.

A pack is a folder ``epi/nlp/packs/<name>/`` (or any folder given by path)
holding ``pack.yaml`` (name, language markers), ``concepts.yaml``,
``context.yaml``, ``sections.yaml`` and optionally ``lexicon.tsv``. Fields
follow medspaCy's ConText rules (``literal`` or token ``pattern``,
``category``, ``direction``, ``max_scope``, ``allowed_types``); every model is
closed (``extra="forbid"``), so an unknown or misspelt key is a
:class:`~epi.exceptions.RuleError` that names the file, the rule and the
allowed keys.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from epi.exceptions import RuleError
from epi.nlp._lemma import Lemmatizer, load_lemmatizer
from epi.nlp._tokenize import tokenize

__all__ = [
    "CATEGORIES",
    "ConceptRule",
    "ContextRule",
    "Pack",
    "SectionRule",
    "TokenSpec",
    "failure_rule",
    "load_pack",
    "tag_failure",
]

#: ConText categories a modifier can assign.
CATEGORIES = ("negated", "uncertain", "hypothetical", "historical", "family", "other")
Category = Literal[
    "negated", "uncertain", "hypothetical", "historical", "family", "other", "termination", "pseudo"
]
Direction = Literal["forward", "backward", "bidirectional", "terminate", "pseudo"]


class _Closed(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TokenSpec(_Closed):
    """One token of a pattern: matched on lemma, lower-case text or a regex.

    ``op`` ``"?"`` makes the token optional, ``"+"`` lets it repeat, ``"*"`` both;
    ``value: true`` captures the token's text as the mention's value.
    """

    lemma: str | list[str] | None = None
    lower: str | list[str] | None = None
    regex: str | None = None
    op: Literal["?", "+", "*"] | None = None
    value: bool = False

    @model_validator(mode="after")
    def _one_test(self) -> TokenSpec:
        if self.lemma is None and self.lower is None and self.regex is None:
            raise ValueError("a token pattern needs one of 'lemma', 'lower' or 'regex'")
        if self.regex is not None:
            try:
                re.compile(self.regex)
            except re.error as exc:
                raise ValueError(f"bad regex {self.regex!r}: {exc}") from exc
        return self


class ConceptRule(_Closed):
    """A concept: literals (lemma sequences) or a token pattern."""

    concept: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    type: str = "finding"
    literals: list[str] = Field(default_factory=list)
    pattern: list[TokenSpec] | None = None
    compound: bool = False
    fuzzy: bool = True

    @model_validator(mode="after")
    def _literal_or_pattern(self) -> ConceptRule:
        if bool(self.literals) == (self.pattern is not None):
            raise ValueError("give exactly one of 'literals' (non-empty) or 'pattern'")
        return self


class ContextRule(_Closed):
    """A ConText modifier, termination or pseudo-trigger."""

    literal: str | None = None
    pattern: list[TokenSpec] | None = None
    category: Category
    direction: Direction
    max_scope: int | None = Field(default=None, ge=1, le=100)
    allowed_types: list[str] | None = None
    excluded_types: list[str] | None = None

    @model_validator(mode="after")
    def _check(self) -> ContextRule:
        if (self.literal is None) == (self.pattern is None):
            raise ValueError("give exactly one of 'literal' or 'pattern'")
        if self.category == "termination" and self.direction != "terminate":
            raise ValueError("category 'termination' needs direction 'terminate'")
        if self.category == "pseudo" and self.direction != "pseudo":
            raise ValueError("category 'pseudo' needs direction 'pseudo'")
        if self.direction in ("terminate", "pseudo") and self.category not in (
            "termination",
            "pseudo",
        ):
            raise ValueError(f"direction {self.direction!r} needs category 'termination'/'pseudo'")
        return self


class SectionSets(_Closed):
    """Context a section imposes on every mention inside it."""

    experiencer: Literal["patient", "family", "other"] | None = None
    historical: bool | None = None
    hypothetical: bool | None = None


class SectionRule(_Closed):
    """A section heading: matched at the start of a line, before ':' or the line end."""

    section: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    literals: list[str] = Field(min_length=1)
    sets: SectionSets = Field(default_factory=SectionSets)


class PackMeta(_Closed):
    """``pack.yaml``: what language the pack is for and how to recognise it."""

    name: str
    language: str
    default_scope: int = Field(default=6, ge=1, le=100)
    markers: list[str] = Field(default_factory=list)
    foreign_markers: list[str] = Field(default_factory=list)

    @field_validator("markers", "foreign_markers")
    @classmethod
    def _lower(cls, v: list[str]) -> list[str]:
        return [m.lower() for m in v]


class ConceptsFile(_Closed):
    concepts: list[ConceptRule]


class ContextFile(_Closed):
    context: list[ContextRule]


class SectionsFile(_Closed):
    sections: list[SectionRule]


# ---------------------------------------------------------------------------
# which rule failed

_FAILURE_ATTR = "epi_rule"


def tag_failure(exc: BaseException, where: str) -> None:
    """Record on an exception which rule or stage raised it.

    The innermost tag wins: a rule tags first, and the stages around it
    leave that tag alone. The tag never holds note text.

    Parameters
    ----------
    exc : BaseException
        The exception being re-raised.
    where : str
        The rule (``"concept:dyspnoea"``, ``"context:negated (context.yaml
        entry 3)"``) or stage (``"concept matching"``, ``"sections"``).
    """
    if getattr(exc, _FAILURE_ATTR, None) is None:
        setattr(exc, _FAILURE_ATTR, where)


def failure_rule(exc: BaseException) -> str | None:
    """The rule or stage :func:`tag_failure` recorded on ``exc``, or None.

    Parameters
    ----------
    exc : BaseException
        An exception raised while processing a note.

    Returns
    -------
    str or None
    """
    where = getattr(exc, _FAILURE_ATTR, None)
    return where if isinstance(where, str) else None


# ---------------------------------------------------------------------------
# compiled form


@dataclass(frozen=True)
class _Tok:
    """A compiled token test."""

    lemmas: frozenset[str] | None
    lowers: frozenset[str] | None
    regex: re.Pattern[str] | None
    op: str | None
    value: bool

    def ok(self, lemma: str, lower: str) -> bool:
        if self.lemmas is not None and (lemma in self.lemmas or lower in self.lemmas):
            return True
        if self.lowers is not None and lower in self.lowers:
            return True
        return self.regex is not None and self.regex.fullmatch(lower) is not None


@dataclass(frozen=True)
class Target:
    """What a compiled rule yields when it matches."""

    name: str  # concept name, or the modifier's category
    type: str  # concept type ("" for modifiers)
    direction: str = ""
    max_scope: int = 0
    allowed: frozenset[str] | None = None
    excluded: frozenset[str] | None = None
    fuzzy: bool = False
    rule: str = ""  # the rule, as failures name it: "concept:<name>", "context:<category> (...)"


@dataclass
class Matcher:
    """Literal sequences (indexed by first lemma) plus token patterns."""

    seqs: dict[str, list[tuple[tuple[str, ...], Target]]] = field(default_factory=dict)
    compounds: dict[str, Target] = field(default_factory=dict)
    fuzzy: dict[str, Target] = field(default_factory=dict)
    fuzzy_missing: dict[str, Target] = field(default_factory=dict)
    known_words: frozenset[str] = frozenset()
    suffix3: set[str] = field(default_factory=set)
    patterns: list[tuple[tuple[_Tok, ...], Target]] = field(default_factory=list)
    pattern_first: dict[str, list[int]] = field(default_factory=dict)
    pattern_any: list[int] = field(default_factory=list)
    first_keys: frozenset[str] = frozenset()
    prefix2: frozenset[str] = frozenset()

    def add_literal(self, lemmas: tuple[str, ...], target: Target, compound: bool) -> None:
        self.seqs.setdefault(lemmas[0], []).append((lemmas, target))
        self.seqs[lemmas[0]].sort(key=lambda x: -len(x[0]))
        if compound and len(lemmas) == 1 and len(lemmas[0]) >= 3:
            for ending in _COMPOUND_ENDINGS:
                self.compounds.setdefault(lemmas[0] + ending, target)
                self.suffix3.add((lemmas[0] + ending)[-3:])
        if target.fuzzy and len(lemmas) == 1 and len(lemmas[0]) >= 6:
            # one letter missing (åndnød) or one extra (åndennød); no
            # substitutions: those turn real words into concepts
            # (forværring -> forvirring)
            # and adjacent letters swapped (ånednød); never the first letter
            # (uorienteret -> orienteret is a real word, not a typo)
            for form in (lemmas[0] + e for e in _COMPOUND_ENDINGS):
                self.fuzzy.setdefault(form, target)
                for variant in _swaps(form):
                    self.fuzzy.setdefault(variant, target)
                for variant in _deletes(form):
                    self.fuzzy_missing.setdefault(variant, target)

    def add_pattern(self, toks: tuple[_Tok, ...], target: Target) -> None:
        idx = len(self.patterns)
        self.patterns.append((toks, target))
        first = toks[0]
        if first.op is None and first.regex is None and (first.lemmas or first.lowers):
            for key in (first.lemmas or frozenset()) | (first.lowers or frozenset()):
                self.pattern_first.setdefault(key, []).append(idx)
        else:
            self.pattern_any.append(idx)

    def freeze(self) -> None:
        """Precompute the lookup sets :meth:`match` uses to skip most tokens fast."""
        self.first_keys = frozenset(self.seqs) | frozenset(self.pattern_first)
        self.prefix2 = frozenset(w[:2] for w in (*self.fuzzy, *self.fuzzy_missing))

    def match(
        self, lemmas: list[str], lowers: list[str], texts: list[str], use_fuzzy: bool
    ) -> list[tuple[int, int, Target, str | None]]:
        """Longest non-overlapping matches, left to right: (start, end, target, value)."""
        out: list[tuple[int, int, Target, str | None]] = []
        n = len(lemmas)
        i = 0
        seqs = self.seqs
        first_keys = self.first_keys
        suffix3 = self.suffix3
        prefix2 = self.prefix2
        pattern_any = self.pattern_any
        while i < n:
            best: tuple[int, int, Target, str | None] | None = None
            lem = lemmas[i]
            low = lowers[i]
            if lem in first_keys or low in first_keys:
                for key in (low, lem) if lem != low else (lem,):
                    for seq, target in seqs.get(key, ()):
                        k = len(seq)
                        if k <= (best[1] - i if best else 0) or i + k > n:
                            continue
                        j = 1
                        while j < k and (seq[j] == lemmas[i + j] or seq[j] == lowers[i + j]):
                            j += 1
                        if j == k:
                            best = (i, i + k, target, None)
                            break
                cands = self.pattern_first.get(lem, [])
                if low != lem:
                    cands = cands + self.pattern_first.get(low, [])
                for idx in cands:
                    toks, target = self.patterns[idx]
                    try:
                        got = _match_pattern(toks, lemmas, lowers, texts, i)
                    except Exception as exc:
                        tag_failure(exc, target.rule or target.name)
                        raise
                    if got is not None and (best is None or got[0] > best[1]):
                        best = (i, got[0], target, got[1])
            for idx in pattern_any:
                toks, target = self.patterns[idx]
                try:
                    got = _match_pattern(toks, lemmas, lowers, texts, i)
                except Exception as exc:
                    tag_failure(exc, target.rule or target.name)
                    raise
                if got is not None and (best is None or got[0] > best[1]):
                    best = (i, got[0], target, got[1])
            if best is None and len(low) > 4 and low[-3:] in suffix3 and low.isalpha():
                for k in range(1, len(low) - 2):
                    target = self.compounds.get(low[k:])
                    if target is not None:
                        best = (i, i + 1, target, None)
                        break
            if (
                best is None
                and use_fuzzy
                and len(low) >= 5
                and low[:2] in prefix2
                and low not in self.known_words
                and low.isalpha()
            ):
                target = self.fuzzy_missing.get(low) or self.fuzzy.get(low)
                if target is None:
                    for variant in _deletes(low):
                        target = self.fuzzy.get(variant)
                        if target is not None:
                            break
                if target is not None:
                    best = (i, i + 1, target, None)
            if best is None:
                i += 1
            else:
                out.append(best)
                i = best[1]
        return out


# Inflected endings a compound's head can carry ("benødemerne" ends in "ødemerne").
_COMPOUND_ENDINGS = ("", "e", "er", "erne", "en", "et", "ene", "s", "ens", "ets", "ernes", "ne")


def _deletes(word: str) -> list[str]:
    """The word with one letter dropped, never the first."""
    return [word[:k] + word[k + 1 :] for k in range(1, len(word))]


def _swaps(word: str) -> list[str]:
    """The word with two adjacent letters swapped, never the first."""
    return [word[:k] + word[k + 1] + word[k] + word[k + 2 :] for k in range(1, len(word) - 1)]


def _match_pattern(
    toks: tuple[_Tok, ...], lemmas: list[str], lowers: list[str], texts: list[str], i: int
) -> tuple[int, str | None] | None:
    """Greedy match of a pattern at token ``i``; returns (end, value)."""
    pos = i
    n = len(lemmas)
    value: str | None = None
    for tok in toks:
        if pos < n and tok.ok(lemmas[pos], lowers[pos]):
            if tok.value:
                value = texts[pos]
            pos += 1
            if tok.op in ("+", "*"):
                while pos < n and tok.ok(lemmas[pos], lowers[pos]):
                    pos += 1
        elif tok.op in ("?", "*"):
            continue
        else:
            return None
    if pos == i:
        return None
    return pos, value


@dataclass
class Pack:
    """A loaded, validated and compiled rule pack."""

    name: str
    meta: PackMeta
    concepts: list[ConceptRule]
    context: list[ContextRule]
    sections: list[SectionRule]
    lemmatizer: Lemmatizer
    concept_matcher: Matcher
    context_matcher: Matcher
    section_re: re.Pattern[str] | None
    section_sets: dict[str, SectionSets]
    section_by_heading: dict[str, str]

    @property
    def concept_names(self) -> list[str]:
        """Concept names, in pack order, without duplicates."""
        return list(dict.fromkeys(r.concept for r in self.concepts))


def _read_yaml(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise RuleError(f"{path}: not valid YAML ({exc}); fix the syntax") from exc


def _validate(model: type[BaseModel], data: Any, path: Path) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(p) for p in err["loc"])
        if err["type"] == "extra_forbidden":
            allowed = _allowed_keys(model, err["loc"])
            msg = (
                f"{path}: unknown key '{err['loc'][-1]}' at {loc}; "
                f"allowed keys: {', '.join(allowed)}"
            )
        else:
            msg = f"{path}: {loc}: {err['msg']}"
        if len(exc.errors()) > 1:
            msg += f" ({len(exc.errors())} problems in all; this is the first)"
        raise RuleError(msg) from None


def _allowed_keys(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    current: Any = model
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        fld = current.model_fields.get(part) if hasattr(current, "model_fields") else None
        if fld is None:
            break
        ann = fld.annotation
        args = getattr(ann, "__args__", ())
        inner = [a for a in (ann, *args) if isinstance(a, type) and issubclass(a, BaseModel)]
        for a in args:
            inner += [
                b
                for b in getattr(a, "__args__", ())
                if isinstance(b, type) and issubclass(b, BaseModel)
            ]
        if inner:
            current = inner[0]
    return sorted(current.model_fields) if hasattr(current, "model_fields") else []


def _compile_tok(spec: TokenSpec, lem: Lemmatizer) -> _Tok:
    def as_set(v: str | list[str] | None, lemmatize: bool) -> frozenset[str] | None:
        if v is None:
            return None
        items = [v] if isinstance(v, str) else v
        out = {x.lower() for x in items}
        # "kg" also matches the abbreviation token "kg." and vice versa
        out |= {x[:-1] for x in out if x.endswith(".") and len(x) > 1}
        out |= {x + "." for x in out if x.isalpha()}
        if lemmatize:
            out |= {lem.lemma(x.lower()).lower() for x in items}
        return frozenset(out)

    return _Tok(
        lemmas=as_set(spec.lemma, True),
        lowers=as_set(spec.lower, False),
        regex=re.compile(spec.regex, re.IGNORECASE) if spec.regex else None,
        op=spec.op,
        value=spec.value,
    )


def _literal_lemmas(text: str, lem: Lemmatizer) -> tuple[str, ...]:
    toks = [text[s:e] for s, e in tokenize(text)]
    return tuple(lem.lemma(t.lower()).lower() for t in toks)


def _pack_dir(pack: str | Path) -> Path:
    p = Path(pack)
    if p.is_dir():
        return p
    ref = resources.files("epi.nlp") / "packs" / str(pack)
    if ref.is_dir():
        return Path(str(ref))
    builtin = sorted(x.name for x in (resources.files("epi.nlp") / "packs").iterdir() if x.is_dir())
    raise RuleError(
        f"rule pack {pack!r} not found; use a built-in pack ({', '.join(builtin)}) "
        "or the path of a folder with pack.yaml, concepts.yaml, context.yaml, sections.yaml"
    )


@lru_cache(maxsize=16)
def _load_pack_cached(path: str) -> Pack:
    folder = Path(path)
    need = ["pack.yaml", "concepts.yaml", "context.yaml", "sections.yaml"]
    missing = [n for n in need if not (folder / n).is_file()]
    if missing:
        raise RuleError(f"rule pack {folder} lacks {', '.join(missing)}; add the file(s)")
    meta: PackMeta = _validate(PackMeta, _read_yaml(folder / "pack.yaml"), folder / "pack.yaml")
    concepts: ConceptsFile = _validate(
        ConceptsFile, _read_yaml(folder / "concepts.yaml"), folder / "concepts.yaml"
    )
    context: ContextFile = _validate(
        ContextFile, _read_yaml(folder / "context.yaml"), folder / "context.yaml"
    )
    sections: SectionsFile = _validate(
        SectionsFile, _read_yaml(folder / "sections.yaml"), folder / "sections.yaml"
    )
    lexicon = folder / "lexicon.tsv"
    lem = load_lemmatizer(meta.language, str(lexicon) if lexicon.is_file() else None)

    cm = Matcher(known_words=frozenset(lem.lexicon))
    for rule in concepts.concepts:
        target = Target(rule.concept, rule.type, fuzzy=rule.fuzzy, rule=f"concept:{rule.concept}")
        if rule.pattern is not None:
            cm.add_pattern(tuple(_compile_tok(t, lem) for t in rule.pattern), target)
        for lit in rule.literals:
            seq = _literal_lemmas(lit, lem)
            if not seq:
                raise RuleError(
                    f"{folder / 'concepts.yaml'}: concept {rule.concept}: empty literal"
                )
            cm.add_literal(seq, target, rule.compound)
            lower_seq = tuple(lit.lower()[s:e] for s, e in tokenize(lit.lower()))
            if lower_seq != seq:
                cm.add_literal(lower_seq, target, rule.compound)

    xm = Matcher()
    for number, rule in enumerate(context.context, start=1):
        target = Target(
            rule.category,
            "",
            direction=rule.direction,
            max_scope=rule.max_scope or meta.default_scope,
            allowed=frozenset(rule.allowed_types) if rule.allowed_types else None,
            excluded=frozenset(rule.excluded_types) if rule.excluded_types else None,
            rule=f"context:{rule.category} (context.yaml entry {number})",
        )
        if rule.pattern is not None:
            xm.add_pattern(tuple(_compile_tok(t, lem) for t in rule.pattern), target)
        else:
            assert rule.literal is not None
            xm.add_literal(_literal_lemmas(rule.literal, lem), target, False)
            lower_seq = tuple(rule.literal.lower()[s:e] for s, e in tokenize(rule.literal.lower()))
            xm.add_literal(lower_seq, target, False)

    cm.freeze()
    xm.freeze()
    heading_map: dict[str, str] = {}
    for srule in sections.sections:
        for lit in srule.literals:
            heading_map[" ".join(lit.lower().split())] = srule.section
    section_re = None
    if heading_map:
        alts = "|".join(
            r"\s+".join(re.escape(w) for w in h.split())
            for h in sorted(heading_map, key=len, reverse=True)
        )
        section_re = re.compile(
            r"^[ \t]*(?P<h>" + alts + r")[ \t]*(?::|[ \t]*$)", re.IGNORECASE | re.MULTILINE
        )
    return Pack(
        name=meta.name,
        meta=meta,
        concepts=concepts.concepts,
        context=context.context,
        sections=sections.sections,
        lemmatizer=lem,
        concept_matcher=cm,
        context_matcher=xm,
        section_re=section_re,
        section_sets={s.section: s.sets for s in sections.sections},
        section_by_heading=heading_map,
    )


def load_pack(pack: str | Path = "da") -> Pack:
    """Load and validate a rule pack.

    Parameters
    ----------
    pack : str or path
        A built-in pack name (``"da"``, ``"en"``) or the folder of a pack.

    Returns
    -------
    Pack
        The validated, compiled pack (cached per folder).

    Raises
    ------
    RuleError
        When the pack is missing, a file is not valid YAML, a key is unknown
        (the message lists the allowed keys), or a pattern is malformed.
    """
    return _load_pack_cached(str(_pack_dir(pack).resolve()))
