"""scikit-learn's diabetes data (442 patients; Efron et al. 2004) as a table for the
personalised-medicine example: one adapter per patient group."""

from __future__ import annotations

import pandas as pd
from sklearn.datasets import load_diabetes

LABEL = "progression"  # disease progression one year after baseline
GROUP = "sex_group"
CITATION = "Diabetes data (Efron, Hastie, Johnstone, Tibshirani 2004), shipped with scikit-learn"


def load_diabetes_frame() -> pd.DataFrame:
    """Ten baseline variables (unscaled), the one-year progression, and a readable sex group."""
    bunch = load_diabetes(scaled=False, as_frame=True)
    frame = bunch.frame.rename(columns={"target": LABEL})
    codes = sorted(frame["sex"].unique())
    frame[GROUP] = frame["sex"].map({codes[0]: "sex 1", codes[1]: "sex 2"})
    return frame
