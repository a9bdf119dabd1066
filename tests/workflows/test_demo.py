"""``medadapt demo``: the main job's outputs have the promised structure and honesty."""

from __future__ import annotations

import functools
import json

import pytest

from medadapt.adapters import AdapterModel
from medadapt.cli.main import main
from medadapt.modalities.bundle import BaseModel
from medadapt.workflows.labels import STRATEGY_LABELS
from medadapt.workflows.site_adaptation import STRATEGIES

METRIC_KEYS = {
    "auroc",
    "auroc_ci",
    "auprc",
    "accuracy",
    "accuracy_ci",
    "balanced_accuracy",
    "sensitivity",
    "specificity",
    "brier",
    "ece",
    "n_train",
    "n_test",
    "trainable_params",
    "adapter_bytes",
    "train_seconds",
}


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory):
    """The demo run twice into one folder, as ``make demo`` twice does: first a shorter one
    (Switzerland alone, two strategies, few resamples, tiny models: 20.3 -> 11.5 s of CPU),
    then the full one over its output, which the tests read
    (:func:`test_a_second_run_replaces_the_demos_own_output` checks the first's traces)."""
    from medadapt.modalities.tabular.model import TabularModelConfig
    from medadapt.workflows import demo

    out = tmp_path_factory.mktemp("demo")
    tiny = TabularModelConfig(d_token=16, n_blocks=1, n_heads=2)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(demo, "TARGETS", ("Switzerland",))
        shorter = functools.partial(demo.SiteStudyConfig, strategies=("base_only", "bottleneck"),
                                    model=tiny)  # fmt: skip
        patch.setattr(demo, "SiteStudyConfig", shorter)
        patch.setattr(demo, "run_personalisation",
                      functools.partial(demo.run_personalisation, model_config=tiny))  # fmt: skip
        main(["demo", "--out", str(out), "--n-boot", "20"])  # raises SystemExit on failure
    first = json.loads((out / "results.json").read_text())
    assert set(first["centres"]) == {"Switzerland"}
    (out / "first_results.json").write_text(json.dumps(first))
    main(["demo", "--out", str(out), "--n-boot", "200"])
    return out


def test_results_have_every_centre_and_strategy(demo_dir):
    results = json.loads((demo_dir / "results.json").read_text())
    assert set(results["centres"]) == {"VA Long Beach", "Switzerland"}
    for centre, strategies in results["centres"].items():
        assert tuple(strategies) == STRATEGIES, centre
        for name, metrics in strategies.items():
            assert set(metrics) >= METRIC_KEYS, (centre, name)
    va = results["centres"]["VA Long Beach"]
    assert va["base_only"]["n_train"] == 0 and va["bottleneck"]["trainable_params"] > 0
    assert va["bottleneck"]["trainable_params"] < 0.2 * va["full_finetune"]["trainable_params"]
    assert va["pooled"]["n_train"] > va["scratch_local"]["n_train"]
    assert "_curves" not in results


def test_switzerland_says_plainly_that_auroc_cannot_be_estimated(demo_dir):
    results = json.loads((demo_dir / "results.json").read_text())
    base = results["centres"]["Switzerland"]["base_only"]
    assert base["auroc"] is None
    assert base["notes"]["auroc"].startswith("not reported: ")
    assert any("too few to estimate AUROC" in line for line in results["summary"])


def test_every_warning_names_its_centre_and_strategies_and_counts_agree(demo_dir):
    """A trial: eight warnings naming no hospital; ">45 with heart disease" in the summary
    beside "47 observed" in a note and 47 in results.json."""
    results = json.loads((demo_dir / "results.json").read_text())
    said = results["warnings"]
    assert said
    for w in said:
        who = w["said"].removeprefix(w["where"]).removesuffix(w["message"])
        if len(w["strategies"]) == len(STRATEGIES):
            assert who == " (every strategy): ", w
        elif w["strategies"]:  # each strategy it arose for, named
            assert all(STRATEGY_LABELS[s] in who for s in w["strategies"]), w
        else:
            assert who == ": ", w
    rows = {f"{centre}, {n} {which} rows" for centre in ("VA Long Beach", "Switzerland")
            for which, n in (("training", results["splits"][centre]["n_train"]),
                             ("test", results["splits"][centre]["n_test"]))}  # fmt: skip
    assert {w["where"] for w in said} <= rows | {"Cleveland, Hungary (base model)"}
    assert all(w["strategies"] or w["where"].endswith("(base model)") for w in said)
    page = (demo_dir / "report.html").read_text().replace("&#x27;", "'")
    assert all(w["said"] in page for w in said)
    for centre, strategies in results["centres"].items():
        n, positives = strategies["base_only"]["n"], strategies["base_only"]["n_positive"]
        assert (
            f"{centre}: {n} held-out test patients, {positives} with heart disease."
            in (results["summary"])
        )
        oe = strategies["base_only"]["notes"].get("oe_ratio", "")
        assert "observed" not in oe or f": {positives} observed" in oe
    assert not any(">" in line or "fewer than 5 test patients" in line
                   for line in results["summary"])  # fmt: skip


def test_personalised_diabetes_models_per_group(demo_dir):
    personalised = json.loads((demo_dir / "results.json").read_text())["personalised"]
    assert set(personalised["groups"]) == {"sex 1", "sex 2"}
    for entry in personalised["groups"].values():
        assert {"mae", "rmse", "r2", "mae_ci"} <= set(entry["bottleneck"])
        # a trial's adapter measurably worse (MAE +4.21, 95% CI +0.20 to +8.38) read as a bullet
        worse = entry["difference"]["ci"][0] > 0  # MAE: higher is worse
        said = entry["difference"]["sentence"]
        assert said.endswith(" Keep the base model for this group.") == worse, said
    assert personalised["mixed_batch_max_abs_diff"] < 1e-4
    summary = json.loads((demo_dir / "results.json").read_text())["summary"]
    assert ("Diabetes: the data code sex as 1 and 2 and do not document which is which "
            "(scikit-learn's copy of Efron et al. 2004).") in summary  # fmt: skip
    # introduced before its groups (a trial met "Diabetes, sex 1" with no word of what it was)
    said = [line for line in summary if line.startswith("Diabetes")]
    assert said[0] == (
        "Diabetes, a second example: a measured outcome (disease progression one year after "
        f"baseline), one base model trained on {personalised['base']['n_train']} patients of "
        "every group (sex 1 and sex 2), then one bottleneck adapter per group, each compared "
        "with the base "
        "model on that group's held-out patients."
    )
    assert said[1].startswith("Diabetes, sex 1: ")


def test_saved_adapters_reload_onto_the_saved_base(demo_dir):
    base = BaseModel.load(demo_dir / "base")
    model = AdapterModel(base.model)
    assert model.load_adapter(demo_dir / "adapters" / "va_long_beach_bottleneck")


def test_the_report_is_self_contained(demo_dir):
    html = (demo_dir / "report.html").read_text()
    # no ROC curve for Switzerland (AUROC not estimable there)
    assert html.count("<img") >= 5 and "data:image/png;base64," in html
    assert "http://" not in html and "https://" not in html.replace("https://doi.org", "")


def test_the_bias_view_shows_no_small_cells_and_says_which_centres_have_no_adapter(demo_dir):
    import html as escapes
    import re

    page = (demo_dir / "report.html").read_text()
    table = page[page.index("<th>subgroup</th>") :].split("</table>")[0]
    rows = [re.findall(r"<td>(.*?)</td>", row) for row in table.split("</tr>") if "<td>" in row]
    assert rows
    for row in rows:
        for count in row[2:4]:  # patients, with disease
            count = escapes.unescape(count)
            assert (
                count in ("<5", "suppressed") or re.fullmatch(r"\d+-\d+", count) or int(count) >= 5
            ), row
    # Switzerland has women: "<5", or no count where the ranges beside it, read with the
    # overall totals, would give it back
    assert any(escapes.unescape(row[2]) in ("<5", "suppressed") for row in rows)
    assert "&#x27;no adapter&#x27; marks the source centres" in page


def test_no_roc_curve_is_drawn_where_auroc_is_not_estimable(demo_dir):
    import re

    page = (demo_dir / "report.html").read_text()
    assert "ROC curves on Switzerland&#x27;s test patients." not in page
    assert re.search(
        r"No ROC curve for Switzerland: its \d+ test patients include only \d patients "
        r"without disease \(at least 5 are needed\), so AUROC is not estimable",
        page,
    )
    assert "ROC curves on VA Long Beach&#x27;s test patients." in page


def test_a_second_run_replaces_the_demos_own_output(demo_dir):
    """'make demo' twice: the second run was refused by its own base model's directory
    ('already holds a base model'); an earlier demo's output is replaced, as --help says."""
    first = json.loads((demo_dir / "first_results.json").read_text())
    after = json.loads((demo_dir / "results.json").read_text())
    assert set(first["centres"]) == {"Switzerland"}  # the first run's, replaced
    assert set(after["centres"]) == {"VA Long Beach", "Switzerland"}
    replaced = BaseModel.load(demo_dir / "base")  # the replaced base loads, its checksums hold
    assert replaced.model.d_token == 64  # the second run's (the first's: 16)
    for centre in ("va_long_beach", "switzerland"):  # each adapter of the second run loads
        assert list((demo_dir / "adapters").glob(f"{centre}*")), centre


def test_the_python_demo_refuses_a_folder_holding_something_else(tmp_path):
    """ma.run_demo writes its base and adapters with overwrite=True: a folder of the user's
    own files is refused before anything is written, unless overwrite=True."""
    from medadapt.errors import ConfigError
    from medadapt.workflows.demo import run_demo

    (tmp_path / "base").mkdir()
    (tmp_path / "base" / "model.json").write_text("{}")  # the user's own
    with pytest.raises(ConfigError) as refused:
        run_demo(tmp_path, n_boot=10)
    assert str(refused.value) == (
        f"{tmp_path} is not empty and holds no earlier demo; choose a new or empty directory, "
        "or pass overwrite=True to write into it"
    )
    assert (tmp_path / "base" / "model.json").read_text() == "{}"
