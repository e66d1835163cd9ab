"""The Stanza pipeline: epi's rule-based processors and the ``noterules`` processor.

This is the only module of epi that imports stanza. Stanza objects never leave
``epi.nlp``: :func:`process_text` hands back plain :class:`Mention` objects.

Two ways to run:

* **Neural** — when Stanza's Danish models are installed (``stanza.download("da")``
  on a connected machine, or a resources folder given by ``models_dir`` or the
  ``EPI_STANZA_DIR`` environment variable), the pipeline is
  ``tokenize, mwt, pos, lemma, depparse, noterules`` and ConText scope follows
  the dependency parse.
* **Rules** (default, offline, CI) — epi's rule-based tokenizer/sentence
  splitter (``tokenize`` variant ``epi``) and lemmatizer (``lemma`` variant
  ``epi``), registered as Stanza processor variants, then ``noterules``;
  scope is a token window.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from functools import lru_cache
from pathlib import Path
from typing import Any

import stanza
from stanza.models.common import doc as sdoc
from stanza.pipeline.processor import (
    Processor,
    ProcessorVariant,
    register_processor,
    register_processor_variant,
)

from epi.exceptions import NLPError
from epi.io import atomic_write_text
from epi.nlp._engine import Mention, SentenceTokens, annotate
from epi.nlp._models import _stanza_dir, neural_models_available
from epi.nlp._rules import load_pack
from epi.nlp._tokenize import split_sentences, tokenize

__all__ = ["build_pipeline", "dispose", "process_text"]

_LOG = logging.getLogger("epi.nlp")
_ID, _TEXT, _START, _END = sdoc.ID, sdoc.TEXT, sdoc.START_CHAR, sdoc.END_CHAR


@register_processor_variant("tokenize", "epi")
class EpiTokenizer(ProcessorVariant):
    """Rule-based Danish clinical tokenizer and sentence splitter (see ``_tokenize``)."""

    OVERRIDE = True

    def __init__(self, config: dict[str, Any]) -> None:
        self.config = config

    def process(self, document: Any) -> sdoc.Document:
        """Tokenize a string or a text-only ``Document``."""
        text = document.text if isinstance(document, sdoc.Document) else document
        if not isinstance(text, str):
            raise NLPError(f"the epi tokenizer needs a str, got {type(text).__name__}")
        sents = split_sentences(text, tokenize(text))
        if self.config.get("fast", True):
            return _fast_document(text, sents)
        return _plain_document(text, sents)


def _plain_document(text: str, sents: list[list[tuple[int, int]]]) -> sdoc.Document:
    """A ``stanza.Document`` built the documented way (token dicts)."""
    sentences = [
        [{_ID: (i,), _TEXT: text[s:e], _START: s, _END: e} for i, (s, e) in enumerate(sent, 1)]
        for sent in sents
    ]
    return sdoc.Document(sentences, text)


@lru_cache(maxsize=1)
def _templates() -> tuple[dict[str, Any], dict[str, Any], dict[str, Any], bool]:
    """Attribute dicts of a Sentence, Word and Token freshly built by Stanza.

    The last item says whether Stanza's comment objects have the layout the
    fast builder fills in directly (else it lets Stanza parse the comments).
    """
    doc = sdoc.Document([[{_ID: (1,), _TEXT: "x", _START: 0, _END: 1}]], "x")
    sent = doc.sentences[0]
    comments = getattr(sent._comments, "_comments", None)
    simple = (
        isinstance(comments, list)
        and [getattr(c, "_key", None) for c in comments] == ["text", "sent_id"]
        and [getattr(c, "_value", None) for c in comments] == ["x", "0"]
        and [getattr(c, "_line", None) for c in comments] == ["# text = x", "# sent_id = 0"]
    )
    return dict(sent.__dict__), dict(sent.words[0].__dict__), dict(sent.tokens[0].__dict__), simple


def _fast_document(text: str, sents: list[list[tuple[int, int]]]) -> sdoc.Document:
    """The same ``stanza.Document`` as :func:`_plain_document`, built several times faster.

    Stanza validates token dicts one by one and parses each comment line;
    here Sentences, Words and Tokens are cloned from templates that Stanza
    itself built, so every attribute Stanza sets is present. A test checks
    that both builders give identical ``to_dict()`` and CoNLL-U output.
    """
    doc = sdoc.Document([], None)
    if not sents:
        doc.text = text
        return doc
    sent_t, word_t, token_t, simple_comments = _templates()
    new = object.__new__
    Sentence, Word, Token = sdoc.Sentence, sdoc.Word, sdoc.Token
    Comment, CommentList = sdoc.Comment, sdoc.CommentList
    sentences = []
    n_tok = 0
    prev_token: Any = None
    for index, offsets in enumerate(sents):
        sentence = new(Sentence)
        sentence.__dict__.update(sent_t)
        tokens: list[Any] = []
        words: list[Any] = []
        sentence._tokens, sentence._words = tokens, words
        sentence._dependencies, sentence._ents, sentence._empty_words = [], [], []
        sentence._doc, sentence._index = doc, index
        for i, (s, e) in enumerate(offsets, start=1):
            piece = text[s:e]
            w = new(Word)
            w.__dict__.update(word_t)
            w._id, w._text, w._start_char, w._end_char, w._sent = i, piece, s, e, sentence
            t = new(Token)
            t.__dict__.update(token_t)
            t._id, t._text, t._start_char, t._end_char, t._sent = (i,), piece, s, e, sentence
            t._words = [w]
            w._parent = t
            if prev_token is not None:
                prev_token._spaces_after = text[prev_token._end_char : s]
            prev_token = t
            tokens.append(t)
            words.append(w)
        n_tok += len(tokens)
        stext = text[offsets[0][0] : offsets[-1][1]]
        sentence._text = stext
        line = "# text = " + " ".join(stext.split())
        if simple_comments:
            cl = new(CommentList)
            cl._comments = [
                Comment(line, "text", line[9:], line[9:]),
                Comment(f"# sent_id = {index}", "sent_id", str(index), str(index)),
            ]
            sentence._comments = cl
        else:  # pragma: no cover - other Stanza versions
            sentence.comments = [line, f"# sent_id = {index}"]
        sentences.append(sentence)
    prev_token._spaces_after = text[prev_token._end_char :]
    sentences[0]._tokens[0]._spaces_before = text[: sents[0][0][0]]
    doc._sentences = sentences
    doc._text = text
    doc.num_tokens = doc.num_words = n_tok
    return doc


def dispose(doc: sdoc.Document) -> None:
    """Break a processed document's reference cycles so it is freed at once.

    Without this every document waits for the cyclic garbage collector,
    whose full passes rescan all live objects. Cutting the sentence lists and
    each Token's word list leaves only one-way references.
    """
    for sentence in doc.sentences:
        for token in sentence._tokens:
            token._words = ()
        sentence._tokens = sentence._words = ()
        sentence._doc = None
    doc._sentences = []


@register_processor_variant("lemma", "epi")
class EpiLemmatizer(ProcessorVariant):
    """Lexicon-plus-rules Danish lemmatizer (see ``_lemma``)."""

    OVERRIDE = True

    def __init__(self, config: dict[str, Any]) -> None:
        self.lemmatizer = load_pack(config.get("pack", "da")).lemmatizer
        self._cache: dict[str, str] = {}  # lemma of a form not at a sentence start

    def process(self, document: sdoc.Document) -> sdoc.Document:
        """Set ``lemma`` on every word."""
        lemma = self.lemmatizer.lemma
        cache = self._cache
        for sent in document.sentences:
            words = sent.words
            if not words:
                continue
            words[0].lemma = lemma(words[0].text, True)
            prev = words[0].text
            for word in words[1:]:
                text = word.text
                if prev == ":":
                    # a capital after a heading colon ("Obj.: Naboen har")
                    # starts the clause, as at a sentence start
                    prev = text
                    word.lemma = lemma(text, True)
                    continue
                prev = text
                hit = cache.get(text)
                if hit is None:
                    hit = lemma(text, False)
                    if len(cache) < 500_000:
                        cache[text] = hit
                word.lemma = hit
        return document


@register_processor("noterules")
class NoteRulesProcessor(Processor):
    """Apply a rule pack (concepts, ConText, sections) and attach mentions.

    Options (stanza passes ``noterules_<option>``): ``pack`` (name or folder).
    The mentions are stored on the document as ``doc.epi_mentions``.
    """

    PROVIDES_DEFAULT = frozenset({"noterules"})
    REQUIRES_DEFAULT = frozenset({"tokenize", "lemma"})

    def __init__(self, config: dict[str, Any], pipeline: Any, device: Any) -> None:
        super().__init__(config, pipeline, device)
        self.pack = load_pack(config.get("pack", "da"))

    def _set_up_model(self, *args: Any) -> None:  # pragma: no cover - no model
        pass

    def process(self, doc: sdoc.Document) -> sdoc.Document:
        """Find mentions in one document."""
        return _apply_rules(self.pack, doc)


def _apply_rules(pack: Any, doc: sdoc.Document) -> sdoc.Document:
    """Run the rule engine over a processed document; sets ``doc.epi_mentions``."""
    sentences = []
    for sent in doc.sentences:
        words = sent.words
        heads = None
        if words and words[0].head is not None and words[0].deprel is not None:
            heads = [(w.head - 1) if w.head else -1 for w in words]
        sentences.append(
            SentenceTokens(
                texts=[w.text for w in words],
                lemmas=[w.lemma or w.text for w in words],
                starts=[w.start_char for w in words],
                ends=[w.end_char for w in words],
                heads=heads,
            )
        )
    doc.epi_mentions = annotate(pack, doc.text, sentences)
    return doc


@lru_cache(maxsize=1)
def _rules_resources_dir() -> str:
    """A resources folder telling Stanza the languages exist (no models in it).

    One fixed folder per user under the temp directory, rewritten atomically
    (several worker processes may create it at once).
    """
    folder = Path(tempfile.gettempdir()) / f"epi-stanza-rules-{os.getuid()}"
    resources = {lang: {"lang_name": lang, "packages": {}, "tokenize": {}} for lang in ("da", "en")}
    target = folder / "resources.json"
    text = json.dumps(resources, sort_keys=True)
    if not target.is_file() or target.read_text(encoding="utf-8") != text:
        atomic_write_text(target, text)
    return str(folder)


@lru_cache(maxsize=8)
def build_pipeline(
    pack: str = "da", neural: bool | None = None, models_dir: str | None = None
) -> stanza.Pipeline:
    """Build (and cache) the Stanza pipeline for a rule pack.

    Parameters
    ----------
    pack : str
        Rule pack name or folder.
    neural : bool, optional
        Force the neural (True) or rule-based (False) processors; by default
        neural when :func:`neural_models_available`.
    models_dir : str, optional
        Stanza resources folder for the neural models.

    Returns
    -------
    stanza.Pipeline
        Never returned by epi's public API; used inside ``epi.nlp`` only.

    Raises
    ------
    NLPError
        When neural processors are forced but not installed.
    """
    rules = load_pack(pack)
    lang = rules.meta.language
    if neural is None:
        neural = neural_models_available(lang, models_dir)
    if neural:
        root = _stanza_dir(models_dir)
        if not neural_models_available(lang, models_dir):
            raise NLPError(
                f"Stanza models for {lang!r} are not installed in {root}; run "
                f"stanza.download({lang!r}) on a connected machine and copy the folder, "
                "or set EPI_STANZA_DIR"
            )
        return stanza.Pipeline(
            lang,
            dir=str(root),
            processors={
                "tokenize": "default",  # Stanza adds mwt itself where the language has it
                "pos": "default",
                "lemma": "default",
                "depparse": "default",
                "noterules": "epi",
            },
            download_method=None,
            logging_level="WARN",
            noterules_pack=pack,
        )
    return stanza.Pipeline(
        lang,
        dir=_rules_resources_dir(),
        processors={"tokenize": "epi", "lemma": "epi", "noterules": "epi"},
        download_method=None,
        logging_level="ERROR",
        noterules_pack=pack,
        lemma_pack=pack,
    )


@register_processor_variant("noterules", "epi")
class _NoteRulesDefault(ProcessorVariant):
    """The ``epi`` package of ``noterules``: resolves without a model file."""

    OVERRIDE = True

    def __init__(self, config: dict[str, Any]) -> None:
        self.pack = load_pack(config.get("pack", "da"))

    def process(self, doc: sdoc.Document) -> sdoc.Document:
        """Find mentions in one document."""
        return _apply_rules(self.pack, doc)


def process_text(text: str, pack: str = "da", neural: bool | None = None) -> list[Mention]:
    """Run the pipeline on one note and return its mentions.

    Parameters
    ----------
    text : str
        Note text (non-empty).
    pack : str
        Rule pack.
    neural : bool, optional
        See :func:`build_pipeline`.

    Returns
    -------
    list of Mention
    """
    nlp = build_pipeline(pack, neural)
    doc = nlp(sdoc.Document([], text=text))
    return list(getattr(doc, "epi_mentions", []))
