"""Score epi's rule-based tokenizer, sentence splitter and lemmatizer on a UD treebank.

The treebank is only read, never copied: pass the path of a CoNLL-U file
(for Danish, ``da_ddt-ud-dev.conllu`` from UD_Danish-DDT).
"""

from __future__ import annotations

from pathlib import Path

from epi.exceptions import NLPError
from epi.nlp._lemma import load_lemmatizer
from epi.nlp._tokenize import split_sentences, tokenize

__all__ = ["ud_scores"]


def _read_conllu(path: Path) -> list[tuple[str, list[tuple[str, str, bool]]]]:
    """Sentences as (text, [(form, lemma, space_after)])."""
    sentences: list[tuple[str, list[tuple[str, str, bool]]]] = []
    text = ""
    words: list[tuple[str, str, bool]] = []
    skip_until = 0
    for raw in path.read_text(encoding="utf-8").splitlines():
        if raw.startswith("# text = "):
            text = raw[len("# text = ") :]
        elif raw.startswith("#"):
            continue
        elif not raw.strip():
            if words:
                sentences.append((text, words))
            text, words, skip_until = "", [], 0
        else:
            cols = raw.split("\t")
            if len(cols) != 10:
                raise NLPError(f"{path}: a CoNLL-U line has {len(cols)} columns, expected 10")
            ident = cols[0]
            if "." in ident:
                continue
            if "-" in ident:  # multi-word token: score the surface token
                hi = int(ident.split("-")[1])
                words.append((cols[1], cols[2], "SpaceAfter=No" not in cols[9]))
                skip_until = hi
                continue
            if int(ident) <= skip_until:
                continue
            words.append((cols[1], cols[2], "SpaceAfter=No" not in cols[9]))
    if words:
        sentences.append((text, words))
    return sentences


def _f1(gold: set[tuple[int, int]], pred: set[tuple[int, int]]) -> dict[str, float]:
    tp = len(gold & pred)
    p = tp / len(pred) if pred else 0.0
    r = tp / len(gold) if gold else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {"precision": p, "recall": r, "f1": f}


def ud_scores(conllu: str | Path, lang: str = "da") -> dict[str, object]:
    """Token F1, sentence F1 and lemma accuracy of the rule-based processors.

    The sentences are joined with one space into a single running text (no
    line breaks, so sentence splitting gets no help), tokenized and split,
    and token and sentence spans are compared with the treebank's. Lemma
    accuracy is measured on the treebank's own tokens (exact, case-sensitive
    match with the gold lemma).

    Parameters
    ----------
    conllu : path-like
        A CoNLL-U file.
    lang : str
        Lexicon pack to use.

    Returns
    -------
    dict
        ``tokens``, ``sentences``, ``token_f1``, ``sentence_f1``,
        ``lemma_accuracy`` and the precision/recall behind the F1s.

    Raises
    ------
    NLPError
        When the file is missing or malformed.
    """
    path = Path(conllu)
    if not path.is_file():
        raise NLPError(f"treebank file {path} does not exist; pass a CoNLL-U file")
    sentences = _read_conllu(path)
    lem = load_lemmatizer(lang)
    parts: list[str] = []
    gold_tokens: set[tuple[int, int]] = set()
    gold_sents: set[tuple[int, int]] = set()
    offset = 0
    n_lemma = n_lemma_ok = 0
    for _text, words in sentences:
        sent_start = offset
        buf: list[str] = []
        for i, (form, lemma, space_after) in enumerate(words):
            gold_tokens.add((offset, offset + len(form)))
            buf.append(form)
            offset += len(form)
            if space_after and i < len(words) - 1:
                buf.append(" ")
                offset += 1
            n_lemma += 1
            n_lemma_ok += lem.lemma(form, sentence_initial=(i == 0)) == lemma
        gold_sents.add((sent_start, offset))
        parts.append("".join(buf))
        parts.append(" ")
        offset += 1
    text = "".join(parts)
    toks = tokenize(text)
    pred_tokens = set(toks)
    pred_sents = {(s[0][0], s[-1][1]) for s in split_sentences(text, toks)}
    tok = _f1(gold_tokens, pred_tokens)
    sen = _f1(gold_sents, pred_sents)
    return {
        "tokens": len(gold_tokens),
        "sentences": len(gold_sents),
        "token_f1": tok["f1"],
        "token_precision": tok["precision"],
        "token_recall": tok["recall"],
        "sentence_f1": sen["f1"],
        "sentence_precision": sen["precision"],
        "sentence_recall": sen["recall"],
        "lemma_accuracy": n_lemma_ok / n_lemma if n_lemma else 0.0,
    }
