"""Synthetic North Denmark Region population: the embedded default data of epi.

:func:`generate` writes every table of ``data_specs/`` for a random sample of
the region's adults (2015-2024), Danish notes from general practice, hospitals
and municipalities, and ``truth/``: the hazard model that generated the
outcomes, each person's true risk at the protocol horizons, the true
covariates of every person-year and a gold table of every finding mention in
the notes. Everything it writes is labelled synthetic.
"""

from epi.data.synth._constants import GENERATOR_VERSION
from epi.data.synth._generate import TABLES, generate
from epi.data.synth._model import COEF, RE_SD_MUNICIPALITY, RE_SD_PRACTICE
from epi.data.synth._phrases import CONCEPTS

__all__ = [
    "COEF",
    "CONCEPTS",
    "GENERATOR_VERSION",
    "RE_SD_MUNICIPALITY",
    "RE_SD_PRACTICE",
    "TABLES",
    "generate",
]
