"""``medadapt study`` on images: the grid, the report, resuming (tiny ViT, a few epochs)."""

from __future__ import annotations

import json

from medadapt.cli.main import main
from tests.train.image_data import write_png_csv
from tests.workflows.test_image_cli import OLD, TINY


def test_image_study_trains_a_base_then_curves_per_strategy(tmp_path):
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
    study = json.loads((tmp_path / "study" / "study.json").read_text())
    assert study["config"]["kind"] == "image"
    names = sorted(p.name for p in (tmp_path / "study" / "points").glob("*.json"))
    assert len(names) == 2 * (1 + 2 * 2)
    halves = [p for p in study["points"] if p["strategy"] == "bottleneck" and p["fraction"] == 0.5]
    fulls = [p for p in study["points"] if p["strategy"] == "bottleneck" and p["fraction"] == 1.0]
    assert all(h["n_train"] < f["n_train"] for h, f in zip(halves, fulls, strict=True))
    assert set(study["curves"]) >= {"auroc", "accuracy"}
    assert study["conclusions"]["sentences"]
    assert (tmp_path / "study" / "report.html").read_text().count("<img") >= 4
    # a re-run finds every point done and trains nothing
    before = {p: p.stat().st_mtime_ns for p in (tmp_path / "study" / "points").glob("*.json")}
    main(args)
    after = {p: p.stat().st_mtime_ns for p in (tmp_path / "study" / "points").glob("*.json")}
    assert before == after
