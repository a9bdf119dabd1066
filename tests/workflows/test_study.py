"""``medadapt study``: the grid, resuming, the conclusions, sufficiency warnings, the report."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from medadapt.cli.main import main
from medadapt.data.schema import TableSchema
from medadapt.data.splits import nested_fraction
from medadapt.data.tables import read_table
from medadapt.errors import ConfigError
from medadapt.evaluate.sufficiency import check_sufficiency, events_per_parameter, size_findings
from medadapt.modalities import Reading, modality_of
from medadapt.modalities.bundle import BaseModel
from medadapt.modalities.tabular.samples import TableSamples
from medadapt.tables import true_labels
from medadapt.workflows.study import StudyConfig, run_study
from medadapt.workflows.study_points import parameter_counts
from medadapt.workflows.study_summary import aggregate, conclusions, t_interval
from tests.evaluate.browser import open_page, require_browser
from tests.tables import clinical_table

ARGS = [
    "--label",
    "outcome",
    "--group-column",
    "site",
    "--groups",
    "A,B",
    "--group",
    "C",
    "--fractions",
    "0.5,1",
    "--seeds",
    "2",
    "--methods",
    "base_only,head_only,bottleneck",
    "--n-boot",
    "100",
    "--workers",
    "2",
]


@pytest.fixture(scope="module")
def study_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("study")
    data = root / "sites.csv"
    clinical_table(400, seed=3).to_csv(data, index=False)
    main(["study", "--data", str(data), "--out", str(root / "out"), *ARGS])
    return root, data


def test_every_point_of_the_grid_is_written(study_run):
    root, _ = study_run
    points = sorted(p.stem for p in (root / "out" / "points").glob("*.json"))
    assert points == sorted(
        [f"base_only__f1__s{s}" for s in (0, 1)]
        + [
            f"{m}__f{f}__s{s}"
            for m in ("head_only", "bottleneck")
            for f in ("0.5", "1")
            for s in (0, 1)
        ]
    )
    study = json.loads((root / "out" / "study.json").read_text())
    halves = [p for p in study["points"] if p["strategy"] == "bottleneck" and p["fraction"] == 0.5]
    fulls = [p for p in study["points"] if p["strategy"] == "bottleneck" and p["fraction"] == 1.0]
    assert all(h["n_train"] < f["n_train"] for h, f in zip(halves, fulls, strict=True))
    curve = study["curves"]["auroc"]["bottleneck"]
    assert [e["fraction"] for e in curve] == [0.5, 1.0] and curve[0]["n_seeds"] == 2
    assert study["conclusions"]["sentences"]
    assert study["conclusions"]["metric"] == "auroc"
    # Riley et al.'s minimum sample sizes, per strategy, at the conservative R-squared
    from medadapt.evaluate.samplesize import binding, development

    size = study["sample_size"]
    assert set(size["strategies"]) == {"head_only", "bottleneck"}
    for entry in size["strategies"].values():
        criteria = development(parameters=entry["parameters"], prevalence=size["prevalence"],
                               r2_cs=size["r2_cs"])  # fmt: skip
        expected = binding(criteria)
        assert entry["n_needed"] == expected.n and entry["met"] == (size["n_train"] >= expected.n)
    html = (root / "out" / "report.html").read_text()
    assert "Sample size: what the criteria predict" in html
    # the learning curves' band is said not to be the points' precision (a trial read it so)
    from medadapt.workflows.study_report import BAND_IS_NOT_PRECISION

    assert BAND_IS_NOT_PRECISION.format(noun="rows").strip().replace("'", "&#x27;") in html


def test_a_rerun_resumes_from_the_finished_points(study_run):
    root, data = study_run
    points = root / "out" / "points"
    removed = points / "bottleneck__f0.5__s1.json"
    removed.unlink()
    before = {p.name: p.stat().st_mtime_ns for p in points.glob("*.json")}
    main(["study", "--data", str(data), "--out", str(root / "out"), *ARGS])
    after = {p.name: p.stat().st_mtime_ns for p in points.glob("*.json")}
    assert removed.is_file()
    assert {k: v for k, v in after.items() if k != removed.name} == before


def _as_the_cli(**options) -> dict:
    """The modality, options, reading and grid that ``main(["study", ..., *ARGS])`` uses."""
    tables = modality_of("tabular")
    config = StudyConfig(
        group_column="site",
        source_groups=("A", "B"),
        target_group="C",
        strategies=("base_only", "head_only", "bottleneck"),
        fractions=(0.5, 1.0),
        seeds=2,
        n_boot=100,
    )
    return {
        "modality": tables,
        "config": config,
        "options": tables.options(**options),
        "reading": Reading(label="outcome", group_column="site"),
    }


def test_a_resumed_study_counts_its_finished_steps_first(study_run):
    root, data = study_run
    (root / "out" / "points" / "head_only__f1__s0.json").unlink()
    calls = []
    run_study(
        data=data,
        out_dir=root / "out",
        workers=1,
        progress=lambda message, already=0: calls.append((message, already)),
        **_as_the_cli(),
    )
    assert calls == [
        ("resumed: 11 finished steps kept", 11),  # 2 bases + 10 points (of 2 + 11)
        ("head_only 100% seed 0", 0),
    ]


@pytest.mark.parametrize("change", ["a target label", "a source row", "the label definition"])
def test_other_data_in_the_same_directory_is_refused(study_run, tmp_path, change):
    root, data = study_run
    frame = read_table(data, text_columns=["site"])
    options = {}
    if change == "a target label":
        row = frame.index[frame["site"] == "C"][0]
        frame.loc[row, "outcome"] = 1 - frame.loc[row, "outcome"]
    elif change == "a source row":
        frame.loc[frame.index[frame["site"] == "A"][0], "age"] += 1
    else:
        options = {"positive_above": 0}
    changed = tmp_path / "sites.csv"
    frame.to_csv(changed, index=False)
    with pytest.raises(ConfigError) as err:
        run_study(data=changed, out_dir=root / "out", **_as_the_cli(**options))
    assert str(err.value) == (
        f"{root / 'out'} holds a study of other data (the rows or the label definition "
        "changed); choose a new --out directory (or delete that one) to start a study of "
        "this data"
    )


def test_a_different_grid_in_the_same_directory_is_refused(study_run):
    root, data = study_run
    cli = _as_the_cli()
    cli["config"] = StudyConfig(
        group_column="site", source_groups=("A", "B"), target_group="C", seeds=3
    )
    with pytest.raises(ConfigError) as err:
        run_study(data=data, out_dir=root / "out", **cli)
    assert str(err.value) == (
        f"{root / 'out'} holds a study with other settings; choose a new --out directory (or "
        "delete that one) to start a different study"
    )


@pytest.mark.browser
def test_the_study_report_opens_in_a_browser(study_run):
    require_browser()
    root, _ = study_run
    page = open_page(root / "out" / "report.html", root / "study.png")
    assert len(page["images"]) >= 5
    assert all(complete and width > 0 for complete, width in page["images"])
    assert [e for e in page["console"] if e["level"] == "SEVERE"] == []


def test_sufficiency_findings_carry_their_numbers():
    frame = clinical_table(400, seed=1)
    source = frame[frame["site"] != "C"]
    target = frame[frame["site"] == "C"].copy()
    target["marker"] = np.nan  # the target hospital does not measure it
    target.loc[target.index[:3], "smoker"] = "occasionally"  # a level the source never used
    schema = TableSchema.infer(source, label="outcome", id_column="patient_id", group_column="site")
    train, test = target.iloc[:60], target.iloc[60:64]
    findings = {
        f.code: f
        for f in check_sufficiency(
            modality_of("tabular"),
            schema,
            source=TableSamples(source, schema, "site"),
            target_train=TableSamples(train, schema, "site"),
            target_test=TableSamples(test, schema, "site"),
            trainable_params={"bottleneck": 1000},
        )
    }
    missing = findings["features_missing_in_target"].numbers["missing_share"]
    assert missing["marker"]["target"] == 1.0 and missing["marker"]["source"] < 0.2
    assert findings["few_test_events"].level == "warning"
    assert findings["few_test_events"].message.endswith(  # 4 held out: not even accuracy
        "cannot be estimated; with 4 held-out rows in all (fewer than 10), no figure is reported."
    )
    assert findings["unseen_categories"].numbers == {"unseen": {"smoker": 3}}
    epp = findings["events_per_parameter"].numbers
    labels = schema.encode_labels(train)
    assert epp["trainable_params"] == 1000
    assert epp["events"] == min((labels == 0).sum().item(), (labels == 1).sum().item())


def test_conclusions_flag_overlap_and_the_last_doubling():
    shifts = np.linspace(-0.05, 0.05, 100)  # the test resamples move both sizes alike
    points = []
    for seed, (low, high) in enumerate([(0.70, 0.80), (0.71, 0.82), (0.69, 0.79)]):
        curves = {"bottleneck": (low, high), "head_only": (0.6, 0.61)}
        for strategy, (f_low, f_high) in curves.items():
            points += [
                {
                    "strategy": strategy,
                    "fraction": 0.5,
                    "seed": seed,
                    "n_train": 50,
                    "metrics": {
                        "auroc": f_low,
                        "auroc_ci": [f_low - 0.05, f_low + 0.05],
                        "resampled": {"auroc": list(f_low + shifts)},
                    },
                },
                {
                    "strategy": strategy,
                    "fraction": 1.0,
                    "seed": seed,
                    "n_train": 100,
                    "metrics": {
                        "auroc": f_high,
                        "auroc_ci": [f_high - 0.05, f_high + 0.05],
                        "resampled": {"auroc": list(f_high + shifts)},
                    },
                },
            ]
    study = {"task": "binary", "points": points}
    curves = aggregate(points, "binary")
    found = conclusions(study, curves)
    assert found["more_data"]["improving"] is True
    assert found["more_data"]["gain"] == pytest.approx(0.1033, abs=1e-3)
    assert found["best_per_size"][-1]["best"] == "bottleneck"
    assert found["best_per_size"][-1]["indistinguishable_from"] == []
    low, high = t_interval([0.1, 0.11, 0.1])
    assert low < 0.1033 < high


def test_events_per_parameter_warns_below_one_event_per_ten_parameters():
    head = events_per_parameter("head_only", 65, 36, name="head-only adapter")
    assert head.level == "info"
    assert head.message == (
        "head-only adapter: 36 events (the rarer class's count) for 65 trained parameters, "
        "intercepts aside (0.554 per parameter): small adapters rely on the frozen base and "
        "early stopping, not on the data alone."
    )
    adapter = events_per_parameter("bottleneck", 8577, 36, name="bottleneck adapter")
    assert adapter.level == "warning"
    assert adapter.message == (
        "bottleneck adapter: 36 events (the rarer class's count) for 8,577 trained parameters, "
        "intercepts aside (0.0042 per parameter, below 0.1; a model fitted from data alone "
        "usually needs >= 10 per parameter, Peduzzi et al. 1996): the adapter leans on the "
        "frozen base and on early stopping more than on the data: expect results to vary "
        "between seeds and trust intervals, not single runs."
    )
    named = events_per_parameter("head_only", 65, 36, rarer="0")  # a trial took "36 events"
    assert named.message.startswith(  # for 36 patients with disease: they were without it
        "head_only: 36 events (the rarer class's count, here class '0') for 65 trained "
    )
    full = events_per_parameter("full_finetune", 70741, 36)
    scratch = events_per_parameter("scratch_local", 300, 36)
    assert full.level == "warning" and "overfit this group" in full.message
    assert scratch.level == "info" and "random start" in scratch.message
    for finding in (full, scratch):
        assert "frozen base" not in finding.message and "adapter" not in finding.message[:20]
    assert full.numbers["events_per_parameter"] == 0.000509


def test_class_counts_and_events_per_parameter_at_every_training_size():
    frame = clinical_table(400, seed=1)
    schema = TableSchema.infer(frame[frame["site"] != "C"], label="outcome", group_column="site")
    train = frame[frame["site"] == "C"].iloc[:60]
    labels = true_labels(schema, train)
    subsets = {
        f: TableSamples(train.iloc[nested_fraction(np.arange(60), labels, fraction=f, seed=0)],
                        schema)
        for f in (0.1, 0.5, 1.0)
    }  # fmt: skip
    findings = size_findings(
        modality_of("tabular"), schema, subsets, {"head_only": 65, "bottleneck": 8577}
    )
    sizes = findings[0].numbers["sizes"]
    assert [s["n_rows"] for s in sizes] == [len(subsets[f]) for f in (0.1, 0.5, 1.0)]
    smallest = [min(s["class_counts"].values()) for s in sizes]
    assert sizes[0]["events_per_parameter"] == {
        "head_only": float(f"{smallest[0] / 65:.3g}"),
        "bottleneck": float(f"{smallest[0] / 8577:.3g}"),
    }
    rare = [f for f, n in zip((0.1, 0.5), smallest, strict=False) if n < 10]
    assert rare and findings[1].code == "few_training_events_at_size"
    assert findings[1].numbers == {"fractions": rare}
    counts = sizes[0]["class_counts"]
    in_words = ", ".join(f"{n} of class {c}" for c, n in counts.items())
    assert findings[1].message.startswith(f"At 10% ({sizes[0]['n_rows']} rows: {in_words})")
    per_strategy = {f.numbers["strategy"]: f for f in findings if f.code == "events_per_parameter"}
    assert per_strategy["bottleneck"].level == "warning"
    assert per_strategy["bottleneck"].numbers["events"] == smallest[-1]
    assert "at 100% of the target training rows" in per_strategy["bottleneck"].message


def test_the_terminal_shows_events_per_parameter_and_its_warnings(study_run, capsys):
    root, data = study_run
    main(["study", "--data", str(data), "--out", str(root / "out"), *ARGS])
    printed = " ".join(capsys.readouterr().out.split())
    assert "events per trained parameter (intercepts aside): head-only adapter" in printed
    assert "warning: bottleneck adapter: " in printed and "below 0.1" in printed
    # each strategy's figure and intervals, as the report's table (a trial's terminal gave
    # sentences only): the same cells, read from the same study.json
    from medadapt.workflows.study_report import strategy_rows

    study = json.loads((root / "out" / "study.json").read_text())
    metric = study["conclusions"]["metric"]
    assert "by strategy and share of the target's training samples (mean over seeds, 95% CI " in (
        printed
    )
    _, rows = strategy_rows(study["config"]["fractions"], study["curves"][metric])
    for row in rows:
        assert all(cell.split(";")[0] in printed for cell in row[1:]), row


def test_without_fraction_one_the_report_keeps_roc_subgroups_and_the_card(tmp_path):
    data = tmp_path / "sites.csv"
    clinical_table(400, seed=3).to_csv(data, index=False)
    out = tmp_path / "out"
    args = [*ARGS[:8], "--fractions", "0.5", "--seeds", "1", "--methods", "base_only,bottleneck"]
    main(["study", "--data", str(data), "--out", str(out), *args, "--workers", "1"])
    study = json.loads((out / "study.json").read_text())
    adapter = next(p for p in study["points"] if p["strategy"] == "bottleneck")
    assert adapter["fraction"] == 0.5 and adapter["subgroups"] and adapter["curves"]["roc"]
    html = (out / "report.html").read_text()
    assert "Discrimination and calibration with the largest training size tried" in html
    assert "Per-subgroup view" in html and "Adapter card: bottleneck adapter, C" in html
    assert html.index("&lt;50") < html.index("50-64") < html.index("&gt;=65")
    assert "AUROC: bottleneck adapter" in html and "base_only" not in html


def test_adapter_options_set_each_method_and_the_report_says_so(tmp_path):
    data = tmp_path / "sites.csv"
    clinical_table(400, seed=3).to_csv(data, index=False)
    out = tmp_path / "out"
    args = [*ARGS[:8], "--fractions", "0.5", "--seeds", "1", "--methods", "lora,bottleneck"]
    main(["study", "--data", str(data), "--out", str(out), *args, "--workers", "1",
          "--adapter-options", "lora:r=2, alpha=4; bottleneck:d_hidden=3"])  # fmt: skip
    study = json.loads((out / "study.json").read_text())
    given = {"lora": {"r": 2, "alpha": 4.0}, "bottleneck": {"d_hidden": 3}}
    assert study["config"]["method_options"] == given
    config = StudyConfig(group_column="site", target_group="C", source_groups=("A", "B"),
                         strategies=("lora", "bottleneck"))  # fmt: skip
    modality = modality_of("tabular")
    schema = BaseModel.load(out / "bases" / "seed_0").schema
    defaults = parameter_counts(modality, schema, config, modality.options())
    chosen = parameter_counts(modality, schema, replace(config, method_options=given),
                              modality.options())  # fmt: skip
    trained = {p["strategy"]: p["trainable_params"] for p in study["points"]}
    assert trained == chosen and all(chosen[m] < defaults[m] for m in given)
    assert "Adapter settings over the defaults: lora r=2, alpha=4.0; bottleneck d_hidden=3." in (
        (out / "report.html").read_text()
    )


def test_study_json_never_shows_a_subgroup_count_below_five(study_run):
    root, _ = study_run
    study = json.loads((root / "out" / "study.json").read_text())
    seen = []
    for point in study["points"]:
        for groups in point.get("subgroups", {}).values():
            exact = [m for m in groups.values() if isinstance(m["n"], int)]
            masked = len(exact) < len(groups)
            for m in groups.values():
                seen.append(m["n"])
                if isinstance(m["n"], int) and isinstance(m["n_positive"], int):
                    assert not masked  # one suppressed value: the others are ranges
                    # nor 0: "12 patients, 0 events" gives each member's outcome away
                    assert min(m["n"], m["n_positive"], m["n"] - m["n_positive"]) >= 5
                assert "fewer than 5" in " ".join(m["notes"].values()) or not any(
                    f" {k} patient" in " ".join(m["notes"].values()) for k in range(5)
                )
    # the synthetic target group has small age bands: "<5", or no count at all where the
    # ranges beside it, read with the overall totals, would give the small one back
    assert {"<5", "suppressed"} & set(map(str, seen))


def test_a_damaged_study_state_is_one_error_naming_the_fix(tmp_path):
    from medadapt.errors import MedadaptError
    from medadapt.workflows.study import open_study_dir

    (tmp_path / "state.json").write_text('{"config": "ab')  # cut short by a full disk
    with pytest.raises(MedadaptError) as refused:
        open_study_dir(tmp_path, "ab")
    assert str(refused.value) == (
        f"{tmp_path / 'state.json'} is damaged (not JSON): choose a new --out directory, or "
        f"delete {tmp_path} to start the study again"
    )


def test_with_a_given_base_the_criteria_count_that_base_s_parameters(tmp_path):
    """``study --base``: the adapters are trained in the given base, so its sample-size
    criteria count their parameters there, not in a model of the study's default size."""
    from medadapt.workflows.sample_size import strategy_parameters

    data = tmp_path / "sites.csv"
    clinical_table(300, seed=3).to_csv(data, index=False)
    base_dir = tmp_path / "base"
    main(["train-base", "--data", str(data), "--label", "outcome", "--group-column", "site",
          "--groups", "A,B", "--d-token", "16", "--n-blocks", "1", "--n-heads", "2",
          "--out", str(base_dir)])  # fmt: skip
    base = BaseModel.load(base_dir)
    modality = modality_of("tabular")
    strategies = ("head_only", "bottleneck", "full_finetune", "scratch_local")
    config = StudyConfig(group_column="site", target_group="C", base=str(base_dir),
                         strategies=strategies)  # fmt: skip
    counts = parameter_counts(modality, base.schema, config, modality.options(), predictors=True)
    in_base = strategy_parameters(modality, base)  # what check-data and adapt count
    assert {s: counts[s] for s in ("head_only", "bottleneck", "full_finetune")} == {
        s: in_base[s] for s in ("head_only", "bottleneck", "full_finetune")
    }
    assert counts["scratch_local"] > counts["full_finetune"]  # a new model, the default size


def test_the_data_warnings_count_only_the_rows_the_study_uses(tmp_path):
    """A trial's warning counted "54 of 920 rows", a site the study left out (Switzerland)
    among them; they are counted among the target's rows, as check-data and adapt count
    them (not the source groups' too, which the study's base trains on)."""
    from medadapt.workflows.study import prepare

    frame = clinical_table(300, seed=3)
    sparse = ["age", "marker", "smoker"]  # 3 of the model's 4 features missing
    frame.loc[frame.index[frame["site"] == "C"][:2], sparse] = np.nan
    other = frame[frame["site"] == "A"].head(10).assign(site="D", patient_id=range(9000, 9010))
    other[sparse] = np.nan  # a site the study does not use
    data = tmp_path / "sites.csv"
    pd.concat([frame, other]).to_csv(data, index=False)
    prepared = prepare(**_as_the_cli(), data=data)
    at_c = int((frame["site"] == "C").sum())
    assert (
        f"2 of {at_c} rows lack more than half of the model's 4 features (read as 'not "
        "measured', never imputed): their predictions rest on the few left; fill in the others "
        "before relying on them"
    ) in prepared.warnings


def test_a_kept_column_the_base_s_rows_did_not_need_it_for_is_not_said_unneeded_alone(tmp_path):
    """A trial: ``--allow-leak 'worst perimeter'`` was "not needed" (on the rows the study's
    base trains on), then "kept because of --allow-leak" (on the target's): both true, of
    other rows, read as one contradicting the other."""
    from medadapt.workflows.study import prepare

    frame = clinical_table(300, seed=3)
    rng = np.random.default_rng(0)
    noise = np.where(frame["site"] == "C", 0.01, 1.5)  # a copy of the outcome at C alone
    frame["copy"] = frame["outcome"] + rng.normal(0, 1, len(frame)) * noise
    data = tmp_path / "sites.csv"
    frame.to_csv(data, index=False)
    warnings = prepare(**_as_the_cli(allow_leak="copy"), data=data).warnings
    said = next(w for w in warnings if w.startswith("--allow-leak 'copy'"))
    assert said.endswith(
        "the flag was not needed on the rows the base trains on; the target's rows keep "
        "'copy' because of it (below)"
    )
    assert any(w.startswith("column 'copy' (AUROC") and "kept because of --allow-leak" in w
               for w in warnings)  # fmt: skip


def test_a_measured_outcome_gets_rows_per_parameter_at_the_largest_size():
    """A trial's regression study showed an empty "Data sufficiency" section: 12 rows trained
    8,577 parameters without a word, where a yes/no study warned of its events."""
    frame = clinical_table(400, seed=1).assign(outcome=lambda rows: rows["age"] * 1.5)
    frame = frame.drop(columns=["age"])
    schema = TableSchema.infer(frame[frame["site"] != "C"], label="outcome", group_column="site")
    train = frame[frame["site"] == "C"].iloc[:60]
    subsets = {f: TableSamples(train.iloc[: int(60 * f)], schema) for f in (0.5, 1.0)}
    findings = size_findings(
        modality_of("tabular"), schema, subsets, {"head_only": 65, "bottleneck": 8577}
    )
    per_strategy = {f.numbers["strategy"]: f for f in findings if f.code == "events_per_parameter"}
    assert per_strategy["bottleneck"].level == "warning"
    assert per_strategy["bottleneck"].message.startswith(
        "bottleneck: 60 rows at 100% of the target training rows for 8,577 trained parameters, "
        "intercepts aside (0.007 per parameter, below 0.1; a model fitted from data alone "
        "usually needs 10 to 20 per parameter, Harrell 2015)"
    )


def test_a_measured_outcome_s_sizes_of_fewer_than_ten_rows_are_a_warning():
    """A trial's regression study at --fractions 0.01,1 trained and reported an adapter of 1
    row without a word (its warnings quoted only the 100% size)."""
    frame = clinical_table(400, seed=1).assign(outcome=lambda rows: rows["age"] * 1.5)
    frame = frame.drop(columns=["age"])
    schema = TableSchema.infer(frame[frame["site"] != "C"], label="outcome", group_column="site")
    train = frame[frame["site"] == "C"].iloc[:60]
    subsets = {f: TableSamples(train.iloc[: max(1, int(60 * f))], schema)
               for f in (0.02, 0.1, 0.5, 1.0)}  # fmt: skip
    findings = size_findings(modality_of("tabular"), schema, subsets, {"head_only": 65})
    [few] = [f for f in findings if f.code == "few_training_samples_at_size"]
    assert few.level == "warning" and few.numbers == {"fractions": [0.02, 0.1]}
    assert few.message == (
        "At 2% (1 row), 10% (6 rows) of the target training rows there are fewer than 10 rows "
        "to train on: points at those sizes show what a strategy does with almost no data, not "
        "how well it would work."
    )


def test_a_small_brier_score_s_cells_show_every_number():
    """A trial's multiclass study read "<0.01; test CI 0.00–0.00" for Brier scores near
    0.002, and the evaluate report "<0.01 (<0.01–0.01)" beside "0.002 (0.001–0.004)"."""
    from medadapt.workflows.study_report import _cell_text

    assert _cell_text({"mean": 0.0019, "ci": [0.001, 0.003], "test_ci": [0.0, 0.004]}) == (
        "0.002 (0.001–0.003); test CI 0.000–0.004"
    )
    assert _cell_text({"mean": 0.81, "ci": [0.75, 0.86], "test_ci": [0.7, 0.9]}) == (
        "0.81 (0.75–0.86); test CI 0.70–0.90"  # as before where two decimals show them
    )


def test_a_cell_whose_seeds_all_agree_says_so_where_the_interval_over_seeds_would_be():
    """A trial's table, titled "(mean over seeds, 95% CI over seeds; ...)", read "1.00; test
    CI 0.77–1.00": the interval over seeds was left out unsaid where every seed gave 1.00."""
    from medadapt.workflows.study_report import _cell_text

    assert _cell_text({"mean": 1.0, "ci": None, "test_ci": [0.77, 1.0], "n_seeds": 3}) == (
        "1.00 (the same for every seed); test CI 0.77–1.00"
    )
    assert _cell_text({"mean": 0.9, "ci": None, "n_seeds": 1}) == "0.90"  # one seed: none
