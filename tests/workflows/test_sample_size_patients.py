"""Riley et al.'s criteria count patients: with repeat visits (several rows per patient), the
sample-size entries compare the criteria with the distinct patients and say both counts; data
of one row per patient read as before (no training here: the entries, the lines, the card)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from medadapt.data.schema import TableSchema
from medadapt.evaluate.bootstrap import cluster_index
from medadapt.evaluate.samplesize import binding, development
from medadapt.modalities.base import modality_of
from medadapt.modalities.tabular.samples import TableSamples
from medadapt.registry import render_card
from medadapt.results import ADAPTED_READING
from medadapt.workflows.sample_size import (
    CONSERVATIVE_WHY,
    sample_size_line,
    study_sample_size,
    study_sample_size_line,
)

SOURCE = ("Riley et al. Stat Med 2019;38:1276-96 and BMJ 2020;368:m441 (development); "
          "Riley et al. Stat Med 2021;40:4230-51 (external validation)")  # fmt: skip


def _visits(n_patients: int, visits: int) -> pd.DataFrame:
    """``visits`` rows per patient; half the patients have the outcome."""
    rng = np.random.default_rng(0)
    rows = [{"patient": f"P{p:03d}", "age": 40 + p % 30 + v,
             "chol": 200 + int(rng.integers(0, 60)), "y": p % 2}
            for p in range(n_patients) for v in range(visits)]  # fmt: skip
    return pd.DataFrame(rows)


def _samples(frame: pd.DataFrame, id_column: str | None) -> TableSamples:
    schema = TableSchema.infer(frame, label="y", id_column=id_column)
    return TableSamples(frame, schema)


@pytest.fixture(scope="module")
def tabular():
    return modality_of("tabular")


def test_a_study_compares_the_criteria_with_patients_not_visits(tabular):
    """450 training rows from 150 patients: by rows the criteria (385 needed) were met, by
    patients they are not; the test rows likewise (60 rows, 20 patients)."""
    train, test = _samples(_visits(150, 3), "patient"), _samples(_visits(20, 3), "patient")
    entry = study_sample_size(tabular, train.schema, {"head_only": 1}, train, test)
    assert entry is not None
    needed = binding(development(parameters=1, prevalence=0.5, r2_cs=entry["r2_cs"])).n
    assert needed == 385 and 150 < needed <= 450  # rows alone would have met it
    assert entry["strategies"]["head_only"] == {
        "parameters": 1, "criterion": "iii", "n_needed": 385, "met": False}  # fmt: skip
    assert (entry["n_train"], entry["n_train_patients"]) == (450, 150)
    assert (entry["n_test"], entry["n_test_patients"]) == (60, 20)
    assert entry["unit"] == "rows"
    # the test needs of a study that trains its own base: the calibration slope's too, at
    # the cautious C-statistic (a trial planned on the C-statistic's, missing the one that
    # binds), as the Python API computes them
    import medadapt as ma

    expected = ma.sample_size.validation(prevalence=entry["prevalence"], c_statistic=0.7)
    names = ["O/E", "slope (assumed C 0.7)", "C (assumed 0.7)"]
    assert entry["test_needs"] == {k: c.n for k, c in zip(names, expected.criteria, strict=True)}
    assert entry["test_needs"]["slope (assumed C 0.7)"] == max(entry["test_needs"].values())
    assert study_sample_size_line(entry, "patients") == (
        "sample size (Riley et al., conservative R-squared): minimum patients head-only "
        f"adapter 385; the target has 450 rows from 150 patients to train; {CONSERVATIVE_WHY}; "
        f"{ADAPTED_READING}"
    )
    from medadapt.evaluate.report.html import Report
    from medadapt.workflows.study_report import _sample_size

    report = Report(title="study")
    _sample_size(report, {"sample_size": entry, "config": {"kind": "tabular"}})
    html = " ".join(report.render().split())
    assert "no (450 rows from 150 patients)" in html
    assert "this study holds out 60 rows from 20 patients." in html
    assert "What this means: 20 held-out patients are fewer than needed" in html


def test_one_row_per_patient_reads_as_before(tabular):
    """With an id column but one row each, nothing changes: rows are the patients, no
    patient keys are added, and 450 patients meet the 385. Without one, each row is taken as
    one patient, and the line says so instead of calling the rows patients."""
    for id_column in ("patient", None):
        train, test = _samples(_visits(450, 1), id_column), _samples(_visits(60, 1), id_column)
        entry = study_sample_size(tabular, train.schema, {"head_only": 1}, train, test)
        assert entry["strategies"]["head_only"]["met"] is True
        assert not {"n_train_patients", "n_test_patients", "unit"} & set(entry)
        has = (
            "450"
            if id_column
            else ("450 rows (each taken as one patient: no --id-column names the patients)")
        )
        assert study_sample_size_line(entry, "patients") == (
            "sample size (Riley et al., conservative R-squared): minimum patients head-only "
            f"adapter 385; the target has {has} to train; {CONSERVATIVE_WHY}; {ADAPTED_READING}"
        )


def test_patient_counts_only_where_a_patient_has_several_samples(tabular):
    from medadapt.workflows.sample_size import patient_counts

    repeated, single = _samples(_visits(10, 2), "patient"), _samples(_visits(10, 1), "patient")
    assert patient_counts(tabular, n_train=repeated) == {"n_train_patients": 10, "unit": "rows"}
    assert patient_counts(tabular, n_train=single) == {}
    assert patient_counts(tabular, n_train=_samples(_visits(10, 2), None)) == {}  # not named


ENTRY = {"parameters": 8576, "intercepts": 1, "n_needed": 408297, "criterion": "i",
         "n_train": 140, "n_test": 60, "met": False,
         "test_needs": {"O/E": 136, "slope": 1884, "C": 444},
         "test_supports": {"O/E": False, "slope": False, "C": False}, "source": SOURCE}  # fmt: skip
PATIENTS = {"n_train_patients": 70, "n_test_patients": 30, "unit": "rows"}


def test_adapts_line_says_rows_and_patients():
    assert sample_size_line({**ENTRY, **PATIENTS}, "rows") == (
        "sample size (Riley et al.): its 8,576 parameters (the intercept aside) would need "
        "408,297 patients (criterion i); 140 rows from 70 patients trained it: not met; "
        f"{ADAPTED_READING}; precise estimates of observed/expected ratio, calibration "
        "slope and C-statistic at this site need 136, 1,884 and 444 test patients "
        "respectively: the 30 patients (60 rows) here are enough for none of them"
    )
    assert sample_size_line(ENTRY, "rows") == (  # one row per patient: as before
        "sample size (Riley et al.): its 8,576 parameters (the intercept aside) would need "
        f"408,297 rows (criterion i); 140 rows trained it: not met; {ADAPTED_READING}; "
        "precise estimates of observed/expected ratio, calibration slope and C-statistic at "
        "this site need 136, 1,884 and 444 test rows respectively: the 60 here are enough for "
        "none of them"
    )


def _card(sample_size: dict) -> str:
    manifest = {"method": "bottleneck", "metadata": {
        "task": "binary", "data_summary": {"n_train": 140, "n_test": 60,
                                           "sample_size": sample_size}}}  # fmt: skip
    return render_card(name="va", version=1, parent=None,
                       registered="2025-03-02T09:00:00+00:00", manifest=manifest)  # fmt: skip


def test_the_card_says_the_patients_behind_the_rows():
    card = _card({**ENTRY, **PATIENTS})
    assert (
        "| sample size | its 8,576 parameters (the intercept aside) would need 408,297 "
        "patients (criterion i); 140 rows from 70 patients trained it: not met; "
        f"{ADAPTED_READING} |" in card
    )
    assert (
        "- Tested on 60 rows from 30 patients: too few for a precise observed/expected ratio "
        "(136 needed), calibration slope (1,884 needed) and C-statistic (444 needed); read "
        "the intervals of those estimates, not the single values." in card
    )
    before = _card(ENTRY)  # one row per patient: as before
    assert "140 rows trained it: not met" in before and "- Tested on 60 patients: too few" in before


def test_a_measured_outcomes_assumed_r_squared_is_said_as_medadapts_own():
    """An audit: study said "Riley et al.'s cautious default R-squared is assumed" for a
    measured outcome, where the 0.1 assumed is medadapt's (Riley et al. give a default for
    binary outcomes only)."""
    entry = {"task": "regression", "r2": 0.1, "n_train": 37, "source": "Riley et al. Stat Med",
             "strategies": {"head_only": {"n_needed": 5359}}}  # fmt: skip
    line = study_sample_size_line(entry, "patients")
    assert line.endswith(
        "the base this study trains is not scored yet, so an R-squared of 0.1 is assumed "
        "(medadapt's cautious choice: Riley et al. give a default for binary outcomes only); "
        "check-data --base, from a trained base's own scores at the target, may ask fewer (or "
        "more, where the base ranks the target poorly); "
        f"{ADAPTED_READING}"
    )
    assert "Riley et al.'s cautious default" not in line


# ----- a rare class counted in patients, not in their visits ----------------------------------
def _rare_visits(n_patients: int, visits: int, positive: int) -> pd.DataFrame:
    """``visits`` rows per patient; the first ``positive`` patients have the outcome."""
    rng = np.random.default_rng(1)
    rows = [{"patient": f"P{p:03d}", "age": 40 + p % 30 + v,
             "chol": 200 + int(rng.integers(0, 60)), "y": int(p < positive)}
            for p in range(n_patients) for v in range(visits)]  # fmt: skip
    return pd.DataFrame(rows)


def _ranked(modality, base, samples) -> np.ndarray:
    """Risks a base ranks its samples by (AUROC about 0.93 on any of them)."""
    labels = np.asarray(samples.labels, dtype=float)
    noise = np.random.default_rng(0).normal(0, 0.2, len(labels))
    return np.clip(0.3 + 0.3 * labels + noise, 0.01, 0.99)


DEFAULT = "conservative default (Nagelkerke R-squared 0.15, Riley et al. 2020)"


def test_a_study_on_a_base_counts_the_patients_of_a_rare_class(tabular, monkeypatch):
    """40 patients seen 3 times, 2 of them positive (6 positive rows), none seen by the base:
    the evaluation withholds the AUROC (2 positive patients), so the criteria plan on the
    conservative default, not on the base's AUROC on those 6 rows (a third of the patients)."""
    import medadapt.workflows.sample_size as sample_size

    monkeypatch.setattr(sample_size, "_scores", _ranked)
    base = SimpleNamespace(training={"test_metrics": {"auroc": 0.8}})
    frame = _rare_visits(40, 3, positive=2)
    every = _samples(frame, "patient")
    train, test = every.subset(np.arange(84)), every.subset(np.arange(84, 120))
    entry = study_sample_size(tabular, every.schema, {"head_only": 65}, train, test, base=base,
                              unseen=every)  # fmt: skip
    assert entry["from_base"] is False and entry["r2"] == pytest.approx(0.0492, abs=1e-4)
    assert entry["strategies"]["head_only"]["n_needed"] == 11574  # the site's AUROC: 3,614
    assert study_sample_size_line(entry, "patients").endswith(
        f"; anticipated Cox-Snell R-squared 0.049, {DEFAULT}: the base model's AUROC at this site "
        "gives no R-squared to plan on (2 of the 40 patients it never saw are of class '1', "
        "fewer than the 5 an AUROC needs); its AUROC on its source (0.800) would give 0.062, "
        f"higher: the lower one is used, to be cautious; {ADAPTED_READING}"
    )
    unnamed = _samples(frame, None)  # no id column: each row its own patient, as before
    entry = study_sample_size(tabular, unnamed.schema, {"head_only": 65},
                              unnamed.subset(np.arange(84)), unnamed.subset(np.arange(84, 120)),
                              base=base, unseen=unnamed)  # fmt: skip
    assert entry["from_base"] is True and entry["r2"] > 0.05
    assert entry["r2_source"].startswith("from the base model's AUROC on its source (0.800; ")


def test_the_rare_class_warnings_count_patients_where_they_repeat(tabular):
    """check-data's and adapt's warning, adapt's few-rows warning and the study's findings:
    patients, where a patient has several rows; rows as before where each is one patient."""
    from medadapt.evaluate.sufficiency import check_sufficiency
    from medadapt.workflows.adapt import _rare_class, _warnings

    every = _samples(_rare_visits(40, 3, positive=2), "patient")
    train, test = every.subset(np.arange(84)), every.subset(np.arange(84, 120))
    picked = SimpleNamespace(train=train, test=test, where="site = B")
    [note] = _rare_class(tabular, SimpleNamespace(schema=every.schema), picked, ["0", "1"])
    assert note.startswith(
        "class '1' has 2 of the 40 patients of site = B (fewer than 5, the fewest any figure "
        "about a class rests on; 2 to train on, 0 held out): "
    )
    assert note.endswith("collect more patients of class '1'")
    findings = check_sufficiency(tabular, every.schema, source=None, target_train=train,
                                 target_test=test)  # fmt: skip
    found = {f.code: f for f in findings}
    assert found["few_training_events"].message.startswith(
        "Training patients per class in the target group: 26 of class '0', 2 of class '1'; "
        "class '1' has fewer than 10."
    )
    few = _samples(_rare_visits(8, 3, positive=4), "patient")

    def split(train, test=None):
        test = train.subset(np.arange(0)) if test is None else test
        return SimpleNamespace(train=train, test=test, n_seen=0,
                               chosen=np.arange(len(train) + len(test)))  # fmt: skip

    assert _warnings(tabular, split(few), "B", 0.5) == [
        "only 8 training patients (24 rows): the adapter's figures will be very uncertain; use "
        "a larger --train-fraction or more rows of this group (--group B)"
    ]
    assert _warnings(tabular, split(few), "B") == [  # --train-fraction already 1: not named
        "only 8 training patients (24 rows): the adapter's figures will be very uncertain; give "
        "more rows of this group (--group B)"
    ]
    assert _warnings(tabular, split(few), None) == [  # a trial's "give more images given"
        "only 8 training patients (24 rows): the adapter's figures will be very uncertain; give "
        "more rows (--data)"
    ]
    rows = _samples(_rare_visits(120, 1, positive=6), "patient")  # one row each: as before
    picked = SimpleNamespace(train=rows.subset(np.arange(84)), test=rows.subset(np.arange(84, 120)),
                             where="site = B")  # fmt: skip
    assert _rare_class(tabular, SimpleNamespace(schema=rows.schema), picked, ["0", "1"]) == []
    assert _warnings(tabular, split(_samples(_rare_visits(24, 1, positive=4), "patient")),
                     "B") == []  # fmt: skip
    # a trial's --test-fraction 0.95 left 2 training rows of 40, and was told to give more rows
    forty = _samples(_rare_visits(40, 1, positive=20), "patient")
    assert _warnings(
        tabular, split(forty.subset(np.arange(2)), forty.subset(np.arange(2, 40))), "B"
    ) == [
        "only 2 training rows: the adapter's figures will be very uncertain; hold out fewer "
        "with a lower --test-fraction (38 of the 40 rows are held out), or give more rows of "
        "this group (--group B)"
    ]
    # a review: --train-fraction 0.1 of 80 training rows (8), 20 held out, is not told to
    # hold out fewer: the held-out rows are fewer than the training split's
    hundred = _samples(_rare_visits(100, 1, positive=50), "patient")
    cut = SimpleNamespace(train=hundred.subset(np.arange(8)), n_seen=0, chosen=np.arange(100),
                          test=hundred.subset(np.arange(80, 100)))  # fmt: skip
    assert _warnings(tabular, cut, "B", 0.1) == [
        "only 8 training rows: the adapter's figures will be very uncertain; use a larger "
        "--train-fraction or more rows of this group (--group B)"
    ]


def test_the_python_api_warns_of_a_rare_class_of_patients(tabular):
    import warnings

    from medadapt.tables import _warn_about_adapter_rows

    frame = _samples(_rare_visits(8, 3, positive=2), "patient")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        _warn_about_adapter_rows(frame.schema, frame)
    said = [str(w.message) for w in caught]
    assert said[0].startswith("class '1' has 2 of the 8 patients of frame (fewer than 5")
    assert said[1] == ("only 8 training patients (24 rows): the adapter's figures will be very "
                       "uncertain; pass more rows in frame")  # fmt: skip


# ----- a measured outcome's R-squared assumed where the base gives none ------------------------
def _regression(source_r2: float, monkeypatch, unseen: int = 100) -> dict:
    """A study on a base whose R-squared at the site is -3 (it predicts each value mirrored
    about the mean) and ``source_r2`` on its source; ``unseen``: its samples at the site."""
    import medadapt.workflows.sample_size as sample_size

    def mirrored(modality, base, samples):
        values = np.asarray(samples.labels, dtype=float)
        return 2 * values.mean() - values

    monkeypatch.setattr(sample_size, "_scores", mirrored)
    frame = pd.DataFrame({"age": np.arange(300) % 50 + 30.0,
                          "y": np.random.default_rng(0).normal(120, 15, 300)})  # fmt: skip
    samples = TableSamples(frame, TableSchema.infer(frame, label="y", task="regression"))
    train, test = samples.subset(np.arange(200)), samples.subset(np.arange(200, 200 + unseen))
    base = SimpleNamespace(training={"test_metrics": {"r2": source_r2}})
    return study_sample_size(modality_of("tabular"), samples.schema, {"head_only": 65}, train,
                             test, base=base, unseen=test)  # fmt: skip


def test_a_measured_outcome_whose_base_explains_nothing_here_says_the_r_squared_is_assumed(
    monkeypatch,
):
    """A review: the study line said "the base model's R-squared here" where 0.1 was assumed
    (the base's R-squared at the site negative), and not why."""
    entry = _regression(-0.2, monkeypatch)
    assert entry["r2"] == 0.1 and entry["from_base"] is False
    assert study_sample_size_line(entry, "patients") == (
        "sample size (Riley et al., conservative R-squared): minimum patients head-only adapter "
        f"{entry['strategies']['head_only']['n_needed']:,}; the target has 200 rows (each "
        "taken as one patient: the base names no patient column) to train; anticipated "
        "R-squared 0.100, a conservative default (no positive R-squared of the base is known): "
        "the base "
        "model's R-squared at this site gives none to plan on (R-squared -3.000 on the 100 "
        "rows it never saw, no better than predicting their mean; -0.200 on its source); "
        f"{ADAPTED_READING}"
    )
    entry = _regression(0.3, monkeypatch)  # the source's, said with why the site's is not used
    assert entry["r2"] == 0.3 and entry["from_base"] is False
    assert study_sample_size_line(entry, "patients").endswith(
        "; anticipated R-squared 0.300, the base model's R-squared on its source: the "
        "base model's R-squared at this site gives none to plan on (R-squared -3.000 on the 100 "
        f"rows it never saw, no better than predicting their mean); {ADAPTED_READING}"
    )
    entry = _regression(0.3, monkeypatch, unseen=8)  # a trial's site of 8: no R² said of them
    assert study_sample_size_line(entry, "patients").endswith(
        "at this site gives none to plan on (it would rest on 8 rows it never saw, fewer than "
        f"the 10 patients evaluate reports an R-squared from); {ADAPTED_READING}"
    )


# ----- a study's per-size figures and prevalence count patients, not their visits -------------
def _heart_visits(tmp_path: Path) -> Path:
    """The bundled heart data with the outcome (any disease) repeated: a patient with it seen
    3 times, one without it once, so that rows and patients disagree on the rarer class and
    on the prevalence."""
    from medadapt.data.heart import bundled_path

    frame = pd.read_csv(bundled_path())
    frame["outcome"] = (frame.pop("num") > 0).astype(int)
    frame["patient"] = "P" + frame.pop("id").astype(str)
    visits = frame.loc[frame.index.repeat(np.where(frame["outcome"] == 1, 3, 1))].copy()
    visits["age"] += visits.groupby("patient").cumcount()  # repeat visits, a year apart
    path = tmp_path / "heart_visits.csv"
    visits.to_csv(path, index=False)
    return path


def _prepared(path, id_column: str | None):
    from medadapt.modalities import Reading
    from medadapt.workflows.study import StudyConfig, prepare

    modality = modality_of("tabular")
    config = StudyConfig(group_column="dataset", source_groups=("Hungary", "VA Long Beach"),
                         target_group="Cleveland", strategies=("head_only", "bottleneck"),
                         fractions=(0.5, 1.0)).check(modality)  # fmt: skip
    reading = Reading(label="outcome", group_column="dataset", id_column=id_column)
    options = modality.options()
    return modality, config, options, prepare(modality, path, options, reading, config)


def test_a_studys_events_per_parameter_and_prevalence_count_patients(tmp_path):
    """Cleveland's patients with the disease seen 3 times each: by rows they were the larger
    class and 72% of the target; by patients they are the rarer class (139 of 304, 46%). The
    events per parameter at each size and the prevalence the criteria are read at count
    patients; without --id-column every row is a patient and the figures are the rows'."""
    from medadapt.evaluate.samplesize import max_cox_snell
    from medadapt.evaluate.samplesize_outcomes import NAGELKERKE_DEFAULT
    from medadapt.workflows.study import _sample_size
    from medadapt.workflows.study_points import parameter_counts, size_findings_of

    path = _heart_visits(tmp_path)
    target = pd.read_csv(path).query("dataset == 'Cleveland'")
    for id_column in ("patient", None):
        modality, config, options, prepared = _prepared(path, id_column)
        params = parameter_counts(modality, prepared.schema, config, options)
        p = parameter_counts(modality, prepared.schema, config, options, predictors=True)
        assert p == {s: n - 1 for s, n in params.items()}  # a binary head's one intercept
        train = prepared.target_train.frame
        if id_column:  # each class's distinct patients; a patient's visits agree here
            per_class = train.groupby("outcome")["patient"].nunique()
            prevalence = target.groupby("patient")["outcome"].first().mean()
        else:
            per_class = train["outcome"].value_counts()
            prevalence = target["outcome"].mean()
        events = int(per_class.min())
        findings = size_findings_of(modality, prepared, config, options)
        largest = findings[0].numbers["sizes"][-1]
        assert largest["n_rows"] == len(train)
        assert largest["class_counts"] == {str(int(c)): int(n) for c, n in per_class.items()}
        assert largest["events_per_parameter"] == {
            s: float(f"{events / n:.3g}") for s, n in p.items()}  # fmt: skip
        ratios = {f.numbers["strategy"]: f.numbers for f in findings
                  if f.code == "events_per_parameter"}  # fmt: skip
        assert {s: n["events"] for s, n in ratios.items()} == dict.fromkeys(params, events)
        assert all(n["intercepts_aside"] for n in ratios.values())  # said in study.json
        entry = _sample_size(modality, prepared, config, options)
        assert entry["prevalence"] == pytest.approx(prevalence, abs=1e-12)
        r2 = NAGELKERKE_DEFAULT * max_cox_snell(prevalence)
        assert {s: e["n_needed"] for s, e in entry["strategies"].items()} == {
            s: binding(development(parameters=n, prevalence=prevalence, r2_cs=r2)).n
            for s, n in p.items()
        }
        if id_column:
            assert largest["n_patients"] == train["patient"].nunique() < len(train)
            assert events == per_class[1] and round(prevalence, 3) == 0.457
            assert findings[0].message.startswith("Training rows at each size: 50%: ")
            assert f"100%: {len(train)} from {largest['n_patients']} patients." in (
                findings[0].message
            )
            assert ratios["head_only"]["events_per_parameter"] == float(
                f"{events / p['head_only']:.3g}"
            )
        else:
            assert "n_patients" not in largest and events == per_class[0]
            assert round(prevalence, 3) == 0.716


def test_the_sizes_count_a_patient_once_in_each_class_among_their_rows(tabular):
    """Per size, a patient counts once in each class among their rows (count_patients' rule:
    one whose visits disagree counts in both), the wording says rows and patients, and the
    prevalence the criteria are read at is the patients', 3 of 16 (rows would say 8 of 21)."""
    from medadapt.evaluate.samplesize_outcomes import class_shares, outcome_of
    from medadapt.evaluate.sufficiency import size_findings

    frame = pd.DataFrame({
        "patient": ["A"] * 3 + ["B"] * 3 + ["C"] * 3 + [f"N{i}" for i in range(12)],
        "age": np.arange(21) % 7 + 40, "chol": np.arange(21) % 5 * 3 + 180,
        "y": [1, 1, 1, 0, 1, 1, 1, 1, 1] + [0] * 12,
    })  # fmt: skip
    every = _samples(frame, "patient")
    half = every.subset(np.r_[0:3, 9:15])  # patient A's 3 rows and 6 one-row patients
    findings = size_findings(tabular, every.schema, {0.5: half, 1.0: every}, {"head_only": 2})
    sizes = findings[0].numbers["sizes"]
    assert sizes == [
        {"fraction": 0.5, "n_rows": 9, "n_patients": 7, "class_counts": {"0": 6, "1": 1},
         "events_per_parameter": {"head_only": 0.5}},
        {"fraction": 1.0, "n_rows": 21, "n_patients": 15, "class_counts": {"0": 13, "1": 3},
         "events_per_parameter": {"head_only": 1.5}},
    ]  # fmt: skip
    assert findings[0].message == (
        "Training rows at each size: 50%: 9 from 7 patients; 100%: 21 from 15 patients."
    )
    assert findings[1].message.startswith(
        "At 50% (9 rows from 7 patients: 6 of class 0, 1 of class 1) of the target training "
        "rows a class has fewer than 10 patients: "
    )
    assert findings[2].message.startswith(
        "head_only: 3 events (the rarer class's count, here class '1', in patients) at 100% of "
        "the target training rows for 2 trained parameters, intercepts aside"
    )
    from medadapt.evaluate.report.html import Report
    from medadapt.workflows.study_report import _sufficiency

    report = Report(title="study")
    _sufficiency(report, {"sufficiency": [f.to_dict() for f in findings],
                          "config": {"kind": "tabular"}})  # fmt: skip
    html = " ".join(report.render().split())
    assert "<th>rows</th><th>patients</th><th>class 0</th>" in html.replace("> <", "><")
    assert (
        "Classes count patients, a patient once in each class among their rows. Events: "
        "patients of the smallest class; parameters: those trained, the output layer&#x27;s "
        "intercepts aside." in html
    )
    labels, patients = np.asarray(every.labels), every.known_patients()
    assert class_shares(labels, 2, cluster_index(patients, 21)) == [13 / 16, 3 / 16]
    outcome = outcome_of("binary", labels, label_patients=patients)
    assert outcome.figures["prevalence"] == 3 / 16
    assert outcome_of("binary", labels).figures["prevalence"] == 8 / 21  # rows, as before
    unnamed = _samples(frame, None)  # no id column: rows are patients, as before
    sizes = size_findings(tabular, unnamed.schema, {1.0: unnamed}, {"head_only": 2})[0]
    assert sizes.numbers["sizes"] == [{"fraction": 1.0, "n_rows": 21,
                                       "class_counts": {"0": 13, "1": 8},
                                       "events_per_parameter": {"head_only": 4.0}}]  # fmt: skip
    assert sizes.message == "Training rows at each size: 100%: 21."


def test_adapts_line_says_rows_that_name_no_patient_are_taken_as_patients(tabular, monkeypatch):
    """A trial: without an id column, each row is taken as one patient; adapt's line (and
    the basis on the card) count rows and say so, and never call them patients."""
    import medadapt.workflows.sample_size as sample_size
    from medadapt.workflows.sample_size import adapter_sample_size

    monkeypatch.setattr(sample_size, "_scores", _ranked)
    frame = _rare_visits(40, 3, positive=20)
    for id_column in (None, "patient"):
        every = _samples(frame.iloc[::3] if id_column else frame, id_column)
        base = SimpleNamespace(schema=every.schema, training={"test_metrics": {"auroc": 0.99}})
        n = len(every)
        train, test = every.subset(np.arange(n * 7 // 10)), every.subset(np.arange(n * 7 // 10, n))
        entry = adapter_sample_size(tabular, base, 65, train, test, every)
        line = sample_size_line(entry, tabular.noun)
        if id_column:  # named, one row each: patients, as check-data counts them
            assert "as_patients" not in entry
            assert "; 28 patients trained it: not met" in line
            assert "on all 40 patients it never saw" in entry["r2_source"]
            continue
        assert entry["as_patients"] == (
            "each taken as one patient: the base names no patient column"
        )
        assert (
            "; 84 rows (each taken as one patient: the base names no patient column) trained "
            f"it: not met; {ADAPTED_READING}" in line
        )
        assert entry["r2_source"].startswith(
            "from the base model's AUROC at this site, on all 120 rows it never saw ("
        )
        card = _card(entry)
        assert "on all 120 rows it never saw" in card and "120 patients" not in card


def test_a_plan_resting_on_a_pair_the_base_barely_tells_apart_says_why_and_what_asks_fewer():
    """A trial's five-class plan said "a million or more" for every strategy, and not why."""
    from medadapt.workflows.sample_size import _weak_pair_words

    weak = {"weakest_pair": {"classes": ["3", "4"], "auroc": 0.381}}
    assert _weak_pair_words(weak) == (  # below 0.5: backwards, not "barely apart" (a trial)
        " So many, because the base model ranks classes '3' and '4' backwards here "
        "(pairwise AUROC 0.381, planned as 0.55), and criterion (i) asks this for such a pair; "
        "fewer classes (classes merged, or a binary outcome: train-base --positive-above) ask "
        "far fewer."
    )
    assert _weak_pair_words({"weakest_pair": {"classes": ["3", "4"], "auroc": 0.52}}).startswith(
        " So many, because the base model barely tells classes '3' and '4' apart here "
    )
    assert _weak_pair_words({"weakest_pair": {"classes": ["3", "4"], "auroc": 0.71}}) == ""
    assert _weak_pair_words({"weakest_pair": {"classes": ["3", "4"], "auroc": None}}) == ""


def test_every_patient_named_only_when_each_row_has_an_id(tabular):
    """The reports' "Each patient has one of these rows" rests on this: an id column whose
    every row names its patient; one blank id, or no id column, and the rows are not named
    (whatever text an id holds, "row:7" included)."""
    frame = _visits(4, 1)
    assert tabular.names_every_patient(_samples(frame, "patient"))
    assert not tabular.names_every_patient(_samples(frame, None))
    blank = frame.assign(patient=frame["patient"].where(frame.index != 2))
    assert not tabular.names_every_patient(_samples(blank, "patient"))
    odd = frame.assign(patient=["row:7", "P1", "P2", "P3"])
    assert tabular.names_every_patient(_samples(odd, "patient"))
    assert not tabular.names_every_patient(_samples(frame, "patient").subset([]))
