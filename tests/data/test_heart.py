"""The bundled heart-disease data and FLamby's protocol, reproduced exactly."""

from __future__ import annotations

import numpy as np

from medadapt.data import heart


def test_bundled_data_with_its_documented_corrections():
    frame = heart.load_heart_disease()
    assert len(frame) == 920
    assert frame.groupby("dataset").size().to_dict() == {
        "Cleveland": 303,
        "Hungary": 294,
        "Switzerland": 123,
        "VA Long Beach": 200,
    }
    assert frame.loc[frame["id"] == 304, "dataset"].item() == "Hungary"
    assert frame.loc[frame["dataset"] == "Switzerland", "chol"].isna().all()
    assert (heart.load_heart_disease(zero_as_missing=False)["chol"] == 0).sum() == 172


def test_flamby_protocol_reproduces_flamby_counts_and_features():
    frame = heart.flamby_frame()
    counts = frame.groupby(["dataset", "split"]).size().to_dict()
    assert counts == {
        ("Cleveland", "test"): 104,
        ("Cleveland", "train"): 199,
        ("Hungary", "test"): 89,
        ("Hungary", "train"): 172,
        ("Switzerland", "test"): 16,
        ("Switzerland", "train"): 30,
        ("VA Long Beach", "test"): 45,
        ("VA Long Beach", "train"): 85,
    }
    features = [c for c in frame.columns if c not in ("disease", "dataset", "split")]
    assert len(features) == 13 and {"cp_2", "cp_3", "cp_4", "restecg_1", "restecg_2"} <= set(
        features
    )
    # per-centre standardisation with that centre's training statistics
    for centre in heart.CENTRES:
        train = frame[(frame["dataset"] == centre) & (frame["split"] == "train")]
        assert np.allclose(train["age"].mean(), 0, atol=1e-9)
    switzerland_test = frame[(frame["dataset"] == "Switzerland") & (frame["split"] == "test")]
    assert int((switzerland_test["disease"] == 0).sum()) == 1
