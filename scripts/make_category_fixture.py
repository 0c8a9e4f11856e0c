"""Writes tests/data/categories.csv: 3000 points in five categories, made by
pandas (a `Categorical` column written with `DataFrame.to_csv`, so names with
a comma or quotes are quoted as pandas quotes them), for the count_cat tests
of the Rust and Python suites.

    python scripts/make_category_fixture.py
"""

from pathlib import Path

import numpy as np
import pandas as pd

NAMES = ["Asian", "Black", "Hispanic", 'Other, "mixed"', "Wéiß"]


def main() -> None:
    rng = np.random.default_rng(2026)
    n = 3000
    k = rng.integers(0, len(NAMES), n)
    centres = np.array([[-1, 0], [1, 0], [0, 1], [0.5, -1], [-0.5, -0.5]])
    df = pd.DataFrame(
        {
            "x": np.round(rng.normal(centres[k, 0], 0.6), 4),
            "y": np.round(rng.normal(centres[k, 1], 0.6), 4),
            "race": pd.Categorical(np.array(NAMES)[k], categories=NAMES),
        }
    )
    out = Path(__file__).resolve().parent.parent / "tests" / "data" / "categories.csv"
    df.to_csv(out, index=False)


if __name__ == "__main__":
    main()
