"""Synthetic clinical tables with known structure (no real patients)."""

from __future__ import annotations

import numpy as np
import pandas as pd


def clinical_table(n: int = 300, seed: int = 0) -> pd.DataFrame:
    """Three sites; risk rises with age and marker; site C has a shifted baseline and a
    marker measured in other units; 10 % of marker values and some smoking values missing."""
    rng = np.random.default_rng(seed)
    site = rng.choice(["A", "B", "C"], size=n, p=[0.4, 0.4, 0.2])
    age = rng.normal(60, 10, n).round()
    marker = rng.normal(0, 1, n)
    smoker = rng.choice(["yes", "no", "former"], size=n)
    logit = 0.08 * (age - 60) + 1.2 * marker + (smoker == "yes") * 0.8
    logit = np.where(site == "C", logit + 1.0, logit)
    label = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    marker = np.where(site == "C", marker * 2 + 3, marker)  # another lab's units
    frame = pd.DataFrame(
        {
            "patient_id": np.arange(1000, 1000 + n),
            "site": site,
            "age": age,
            "marker": marker,
            "smoker": smoker,
            "sex": rng.choice(["F", "M"], size=n),
            "outcome": label,
        }
    )
    frame.loc[rng.random(n) < 0.1, "marker"] = np.nan
    frame.loc[rng.random(n) < 0.05, "smoker"] = None
    return frame


def site_a_leak_table(n: int) -> pd.DataFrame:
    """:func:`clinical_table` with a column ``lab`` that gives the outcome away at site A only
    (a leak within one group, noise elsewhere)."""
    frame = clinical_table(n)
    rng = np.random.default_rng(2)
    frame["lab"] = np.where(frame["site"] == "A", frame["outcome"] * 50.0 + 100, 120.0)
    frame["lab"] += rng.normal(0, 1, len(frame))
    return frame
