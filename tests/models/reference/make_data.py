"""Export the public data sets used by the R reference scripts to CSV.

Run from the repository root::

    .venv/bin/python tests/models/reference/make_data.py

``rossi.csv`` is lifelines' Rossi recidivism data (432 rows, ``week``,
``arrest`` and seven covariates), exactly as ``lifelines.datasets.load_rossi``
ships it. The competing-risks data (``pbc.csv``) ships with R's ``survival``
package and is exported by ``reference.R`` itself.
"""

from __future__ import annotations

from pathlib import Path

from lifelines.datasets import load_rossi

HERE = Path(__file__).parent


def main() -> None:
    """Write ``rossi.csv`` next to this script."""
    load_rossi().to_csv(HERE / "rossi.csv", index=False)


if __name__ == "__main__":
    main()
