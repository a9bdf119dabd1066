"""The bundled UCI Heart Disease data (920 patients, 4 centres) and FLamby's protocol.

See ``bundled/ATTRIBUTION.md`` for the source, licence and the two documented corrections.
"""

from __future__ import annotations

from importlib import resources

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

from medadapt.data.tables import read_table

LABEL = "num"  # disease present = num > 0
POSITIVE_ABOVE = 0.0
GROUP = "dataset"
ID = "id"
CENTRES = ("Cleveland", "Hungary", "Switzerland", "VA Long Beach")
CITATION = (
    "UCI Heart Disease (Janosi, Steinbrunn, Pfisterer, Detrano; CC BY 4.0; "
    "https://doi.org/10.24432/C52P4X)"
)
_MISPLACED_HUNGARIAN_ID = 304


def bundled_path() -> str:
    return str(resources.files("medadapt.data") / "bundled" / "heart_disease_uci.csv")


def load_heart_disease(*, zero_as_missing: bool = True) -> pd.DataFrame:
    """The 920 patients with the documented corrections (row 304 -> Hungary; ``chol``/
    ``trestbps`` of 0 read as missing unless ``zero_as_missing=False``)."""
    frame = read_table(bundled_path())
    frame.loc[frame[ID] == _MISPLACED_HUNGARIAN_ID, GROUP] = "Hungary"
    if zero_as_missing:
        for column in ("chol", "trestbps"):
            frame.loc[frame[column] == 0, column] = np.nan
    return frame


# ----- FLamby Fed-Heart-Disease (du Terrail et al. 2022) -------------------------------------
FLAMBY_FEATURES = ("age", "sex", "trestbps", "chol", "fbs", "thalch", "exang", "oldpeak")
FLAMBY_PUBLISHED = {  # accuracy at 0.5, mean of 5 seeds, average over the 4 centres
    "pooled": 0.735,
    "FedYogi": 0.731,
    "Cyclic": 0.718,
    "FedAvg": 0.685,
}
_CP = {"typical angina": 1, "atypical angina": 2, "non-anginal": 3, "asymptomatic": 4}
_RESTECG = {"normal": 0, "st-t abnormality": 1, "lv hypertrophy": 2}


def flamby_frame() -> pd.DataFrame:
    """FLamby's Fed-Heart-Disease table: 13 standardised features, label, centre, split.

    As in FLamby: slope, ca and thal dropped; rows with a missing value dropped (740 remain:
    303/261/46/130); cp and restecg one-hot with the first level dropped; per centre a 66/34
    train/test split (``random_state=43``, stratified when both classes have more than two
    rows); per-centre standardisation with that centre's training mean and std (ddof=1).
    """
    raw = load_heart_disease(zero_as_missing=False)
    columns = [*FLAMBY_FEATURES, "cp", "restecg", LABEL, GROUP]
    table = pd.DataFrame(
        {
            "age": raw["age"],
            "sex": (raw["sex"] == "Male").astype(float),
            "cp": raw["cp"].map(_CP),
            "trestbps": raw["trestbps"],
            "chol": raw["chol"],
            "fbs": raw["fbs"].map({True: 1.0, False: 0.0}),
            "restecg": raw["restecg"].map(_RESTECG),
            "thalch": raw["thalch"],
            "exang": raw["exang"].map({True: 1.0, False: 0.0}),
            "oldpeak": raw["oldpeak"],
            LABEL: raw[LABEL],
            GROUP: raw[GROUP],
        }
    )[columns].dropna()
    table = table.astype({c: float for c in columns if c != GROUP})
    dummies = pd.get_dummies(
        table[["cp", "restecg"]].astype(int).astype(str), drop_first=True, dtype=float
    )
    features = pd.concat([table[list(FLAMBY_FEATURES)], dummies], axis=1)
    label = (table[LABEL] > 0).astype(int)
    parts = []
    for centre in CENTRES:
        rows = table[GROUP] == centre
        x, y = features[rows], label[rows]
        counts = y.value_counts()
        stratify = y if len(counts) > 1 and (counts > 2).all() else None
        positions = np.arange(len(x))
        _, test_positions = train_test_split(
            positions,
            test_size=0.34,
            train_size=0.66,
            random_state=43,
            shuffle=True,
            stratify=stratify,
        )
        split = np.where(np.isin(positions, test_positions), "test", "train")
        train_x = x[split == "train"]
        standardised = (x - train_x.mean()) / (train_x.std(ddof=1) + 1e-9)
        part = standardised.copy()
        part["disease"] = y.to_numpy()
        part[GROUP] = centre
        part["split"] = split
        parts.append(part)
    return pd.concat(parts).reset_index(drop=True)
