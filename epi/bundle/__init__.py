"""The typed results bundle: one frozen, versioned model per bundle file.

Stages write through `write_file`; the report reads through `read_file`.
``docs/BUNDLE.md`` is `bundle_markdown()`.
"""

from epi.bundle._doc import bundle_markdown
from epi.bundle._io import read_file, validate_file, write_file
from epi.bundle._models import *  # noqa: F403
from epi.bundle._models import __all__ as _models_all

__all__ = ["bundle_markdown", "read_file", "validate_file", "write_file", *_models_all]
