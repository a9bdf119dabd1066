"""``medadapt study`` on images: the grid, the report, resuming (tiny ViT, a few epochs)."""

from __future__ import annotations

import json

from medadapt.cli.main import main
from medadapt.workflows import study_points
from tests.train.image_data import write_npz, write_png_csv
from tests.workflows.test_image_cli import OLD, TINY, run


def test_image_study_trains_a_base_then_curves_per_strategy(tmp_path, capsys):
    csv = write_png_csv(tmp_path, {"A": {c: 14 for c in OLD}, "B": {c: 14 for c in OLD}}, list(OLD))
    args = [
        "study",
        "--data",
        str(csv),
        "--label",
        "label",
        "--group-column",
        "site",
        "--groups",
        "A",
        "--group",
        "B",
        "--fractions",
        "0.5,1",
        "--seeds",
        "2",
        "--methods",
        "base_only,head_only,bottleneck",
        "--n-boot",
        "50",
        "--epochs",
        "2",
        *TINY,
        "--out",
        str(tmp_path / "study"),
    ]
    main(args)
    said = " ".join(capsys.readouterr().out.split())  # one base, as bases/ holds (a trial's
    assert "(one, shared by its 2 seeds: the row does not vary with them)" in said  # said 3)
    assert not (tmp_path / "study" / "bases" / "seed_1").exists()
    study = json.loads((tmp_path / "study" / "study.json").read_text())
    assert study["config"]["kind"] == "image"
    base = json.loads((tmp_path / "study" / "bases" / "seed_0" / "model.json").read_text())
    assert base["training"]["train_config"]["epochs"] == 2  # --epochs reaches the base
    names = sorted(p.name for p in (tmp_path / "study" / "points").glob("*.json"))
    assert len(names) == 2 * (1 + 2 * 2)
    halves = [p for p in study["points"] if p["strategy"] == "bottleneck" and p["fraction"] == 0.5]
    fulls = [p for p in study["points"] if p["strategy"] == "bottleneck" and p["fraction"] == 1.0]
    assert all(h["n_train"] < f["n_train"] for h, f in zip(halves, fulls, strict=True))
    assert set(study["curves"]) >= {"auroc", "accuracy"}
    assert study["conclusions"]["sentences"]
    page = (tmp_path / "study" / "report.html").read_text()
    estimated = [
        name
        for name, by in study["curves"].items()
        if any(e["mean"] is not None for entries in by.values() for e in entries)
    ]
    assert page.count("<img") >= len(estimated) >= 2  # a curve for each metric estimated
    if len(estimated) < len(study["curves"]):  # and for the others why not, no empty panels
        assert "No learning curve for " in page and "not estimable at any size, as " in page
    # a re-run finds every point done and trains nothing
    before = {p: p.stat().st_mtime_ns for p in (tmp_path / "study" / "points").glob("*.json")}
    main(args)
    after = {p: p.stat().st_mtime_ns for p in (tmp_path / "study" / "points").glob("*.json")}
    assert before == after


def test_image_study_on_an_npz_with_a_given_base_applies_epochs_and_tests_unseen_images(
    tmp_path, monkeypatch, capsys
):
    data = write_npz(tmp_path / "d.npz", {c: 40 for c in OLD}, OLD)
    names = ["--class-names", ",".join(OLD)]
    argv = ["train-base", "--data", str(data), *names, *TINY, "--epochs", "1"]
    assert run(*argv, "--out", str(tmp_path / "base")) == 0
    model = json.loads((tmp_path / "base" / "model.json").read_text())
    base_train = set(model["training"]["split"]["train_keys"])
    calls = []
    real = study_points.run_point

    def spy(job):
        calls.append((job["strategy"], job["epochs"]))
        assert base_train.isdisjoint(job["test"].dataset.keys)  # never an image the base trained on
        return real(job)

    monkeypatch.setattr(study_points, "run_point", spy)
    # the command line, as a user runs it: no groups, the reading options of train-base
    argv = ["study", "--data", str(data), "--base", str(tmp_path / "base"), *names, *TINY]
    argv += [
        "--methods",
        "base_only,full_finetune,head_only",
        "--fractions",
        "1",
        "--test-fraction",
        "0.5",
        "--seeds",
    ]  # 10+ held-out images the base never saw
    assert run(*argv, "1", "--n-boot", "20", "--epochs", "1", "--out", str(tmp_path / "study")) == 0
    study = json.loads((tmp_path / "study" / "study.json").read_text())
    assert sorted(calls) == [("base_only", 1), ("full_finetune", 1), ("head_only", 1)]
    assert study["data"]["target_group"] == "(all images)"
    assert study["data"]["n_target_seen_by_base"] == len(base_train)
    # the reading options repeated as train-base had them pass; another size would be ignored
    argv[argv.index("--image-size") + 1] = "64"
    assert run(*argv, "1", "--epochs", "1", "--out", str(tmp_path / "other")) == 2
    assert capsys.readouterr().err.splitlines()[-1] == (
        "error: --image-size 64 differs from the base model's --image-size 32: study keeps the "
        "settings of --base; drop --image-size, or train a new base with it"
    )
    assert not (tmp_path / "other").exists()


def test_a_table_study_names_the_options_it_needs(tmp_path):
    from tests.tables import clinical_table

    data = tmp_path / "sites.csv"
    clinical_table(60).to_csv(data, index=False)
    assert (
        run("study", "--data", str(data), "--label", "outcome", "--out", str(tmp_path / "s")) == 2
    )
    assert not (tmp_path / "s").exists()
