"""Small Markdown writers: numbered tables, figure blocks, numbers with intervals."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = [
    "code",
    "escape",
    "md_figure",
    "md_table",
    "not_performed",
]

_SPECIAL = str.maketrans({"|": r"\|", "*": r"\*", "_": r"\_", "`": r"\`", "$": r"\$",
                          "@": r"\@", "#": r"\#", "[": r"\[", "]": r"\]", "<": r"\<"})  # fmt: skip


def escape(text: Any) -> str:
    """Text safe inside Markdown (and a pipe-table cell): no markup, one line."""
    return " ".join(str(text).split()).translate(_SPECIAL)


def code(text: Any) -> str:
    """Inline code: shown verbatim (no Markdown escapes apply inside it)."""
    body = " ".join(str(text).split()).replace("`", "'")
    return f"`{body}`"


def not_performed(what: str, reason: str) -> str:
    """The explicit paragraph for an analysis this run did not do."""
    return f"*{escape(what)}: not performed in this run: {escape(reason)}.*\n"


def md_table(
    header: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    caption: str,
    label: str,
    source: str | None = None,
    notes: str | None = None,
    escape_cells: bool = True,
) -> str:
    """A numbered, cross-referenceable pipe table (Quarto ``{#tbl-...}`` syntax).

    Parameters
    ----------
    header : sequence of str
        Column titles.
    rows : sequence of sequences
        Cell values (already formatted; escaped unless ``escape_cells`` is False).
    caption : str
        Table caption (without the number; numbering is done at render time).
    label : str
        Cross-reference id, starting with ``tbl-``.
    source : str, optional
        The bundle file(s) the numbers come from, shown under the table.
    notes : str, optional
        A note shown under the table.
    """
    if not label.startswith("tbl-"):
        raise ValueError(f"table label must start with 'tbl-': {label!r}")
    cells = [[escape(h) for h in header]]
    for row in rows:
        cells.append([escape(c) if escape_cells else str(c) for c in row])
    # Column weights: room for the longest word (cells wrap at spaces only, and Typst
    # overflows a narrow column) and some for the longer texts.
    widths = [
        max(
            3,
            0.6 * min(24, max(len(r[j]) for r in cells)),
            *(len(w) + 2 for r in cells for w in r[j].split()),
        )
        for j in range(len(header))
    ]
    total = sum(widths)
    # Dashes proportional to content so pandoc sets relative column widths.
    dashes = [max(3, round(72 * w / total)) for w in widths]
    lines = ["| " + " | ".join(cells[0]) + " |", "|" + "|".join("-" * d for d in dashes) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in cells[1:]]
    out = "\n".join(lines) + f"\n\n: {escape(caption)} {{#{label}}}\n"
    tail = []
    if notes:
        tail.append(escape(notes))
    if source:
        tail.append(f"Source: `{source}`.")
    if tail:
        out += "\n::: {.table-note}\n" + " ".join(tail) + "\n:::\n"
    return out


def md_figure(path: str, *, caption: str, label: str, alt: str) -> str:
    """A numbered figure with alt text (Quarto ``{#fig-... fig-alt=...}`` syntax)."""
    if not label.startswith("fig-"):
        raise ValueError(f"figure label must start with 'fig-': {label!r}")
    alt_text = " ".join(alt.split()).replace('"', "'")
    return f'![{escape(caption)}]({path}){{#{label} fig-alt="{alt_text}"}}\n'
