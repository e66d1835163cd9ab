"""``python -m epi.bundle``: print docs/BUNDLE.md."""

from epi.bundle._doc import bundle_markdown

print(bundle_markdown(), end="")
