"""epi: protocol-driven clinical prediction research on cross-sector Danish health data."""

__version__ = "0.1.0"

__all__ = ["__version__"]
