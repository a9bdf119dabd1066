"""The command line on a PACS: ``--data dicomweb+http://...`` against a real Orthanc.

A tiny base trained on local DICOM files predicts a study fetched from Orthanc and stores a
DICOM SR there, which reads back with the probabilities ``predict`` wrote; a base trained on
studies a labels CSV lists is evaluated and adapted the same way; a 3D model reads a CT
series as one volume. Every bad input is one ``error:`` line, no traceback, and nothing
fetched stays on disk unless ``--dicomweb-cache`` asks for it.
"""

from __future__ import annotations

import copy
import json
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pydicom.uid import generate_uid

from medadapt.data.dicom_sr import (
    Finding,
    ModelIdentity,
    prediction_report,
    read_prediction_report,
)
from medadapt.data.dicomweb import DicomwebReference, DicomwebSource, parse_reference
from medadapt.evaluate.report.formatting import validation_summary
from tests.cli.helpers import CliResult, error_line, run_cli, succeeded
from tests.pacs.orthanc import Pacs
from tests.pacs.studies import ct_series, radiograph, save

CREDENTIALS = (  # the fix a 401 names, in a file or the URL
    "pass a valid bearer token, or USER:PASSWORD for basic auth, in a file with "
    "--dicomweb-token-file, or user:password@ in the --data URL"
)

pytestmark = pytest.mark.xdist_group("orthanc")  # one PACS per worker
TINY = ["--image-size", "16", "--backbone-options", "depth=1,embed_dim=16,num_heads=2"]
TINY_3D = ["--backbone", "monai:vit", "--spatial-dims", "3", "--image-size", "8",
           "--backbone-options", "hidden_size=16,mlp_dim=32,num_layers=1,num_heads=2"]  # fmt: skip


@dataclass
class World:
    pacs: Pacs
    root: Path
    source: DicomwebSource
    labels: Path  # StudyInstanceUID,label,site of the radiographs in the PACS
    studies: list[str]  # their StudyInstanceUIDs
    local_base: Path  # trained on local radiographs
    volume_base: Path  # a 3D model trained on local CT series
    ct_study: str
    ct_series: str


@pytest.fixture(scope="module")
def world(pacs, tmp_path_factory) -> World:
    root = tmp_path_factory.mktemp("pacs_cli")
    source = DicomwebSource.for_reference(parse_reference(pacs.reference()))
    for i in range(5):  # local training files
        save([radiograph("bright", f"LB{i}", seed=i)], root / "local" / "bright")
        save([radiograph("dark", f"LD{i}", seed=50 + i)], root / "local" / "dark")
    rows, uploads = [], []
    for i in range(12):  # the PACS's studies, two sites
        label = "bright" if i % 2 else "dark"
        ds = radiograph(label, f"P{i}", seed=100 + i)
        uploads.append(ds)
        rows.append({"StudyInstanceUID": ds.StudyInstanceUID, "label": label,
                     "site": "A" if i < 6 else "B"})  # fmt: skip
    volumes = {label: [ct_series(label, f"V{label}{i}") for i in range(4)]
               for label in ("bright", "dark")}  # fmt: skip
    for label, studies in volumes.items():
        for k, series in enumerate(studies[:3]):
            save(series, root / "volumes" / label / f"s{k}")
    scan = volumes["bright"][3]
    source.store([*uploads, *scan])
    labels = root / "labels.csv"
    pd.DataFrame(rows).to_csv(labels, index=False)
    succeeded(run_cli("train-base", "--data", root / "local", *TINY, "--epochs", "1",
                "--out", root / "local_base"))  # fmt: skip
    succeeded(run_cli("train-base", "--data", root / "volumes", *TINY_3D, "--epochs", "1",
                "--test-fraction", "0.34", "--out", root / "volume_base"))  # fmt: skip
    return World(
        pacs, root, source, labels, [r["StudyInstanceUID"] for r in rows],
        root / "local_base", root / "volume_base", str(scan[0].StudyInstanceUID),
        str(scan[0].SeriesInstanceUID),
    )  # fmt: skip


def _stored(result: CliResult) -> list[str]:
    """The SOPInstanceUIDs of the reports a command says it stored."""
    lines = [line for line in result.stdout.splitlines() if line.startswith("stored SR ")]
    return [line.split()[2] for line in lines]


def test_predict_a_study_and_store_the_report_in_the_pacs(world, tmp_path, monkeypatch):
    made, mkdtemp = [], tempfile.mkdtemp
    monkeypatch.setattr(
        tempfile, "mkdtemp", lambda *a, **k: made.append(mkdtemp(*a, **k)) or made[-1]
    )
    study = world.studies[0]
    out = tmp_path / "pred.csv"
    result = succeeded(run_cli("predict", "--base", world.local_base, "--store-sr", "--out", out,
                         "--data", world.pacs.reference("studies", study)))  # fmt: skip
    assert f"fetched 1 image (1 series, 1 study) from dicomweb+{world.pacs.root}" in (result.stdout)
    assert world.pacs.password not in result.stdout + result.stderr
    assert "Test^" not in result.stdout and "P0" not in result.stdout.split()  # no patient data
    [row] = pd.read_csv(out).to_dict("records")
    study_uid, _, sop_uid = row["image"].split("/")
    assert study_uid == study
    written = pd.read_csv(out, dtype=str)[["p_bright", "p_dark"]]  # as predict writes tables
    assert written.stack().str.fullmatch(r"[01]\.\d{8}").all(), written  # never 9.3e-07
    [sr_uid] = _stored(result)
    series = [s for s in world.source.series(study) if s.modality == "SR"]
    [report] = world.source.instances(
        DicomwebReference(world.source.url, study, series[0].series_uid), images_only=False
    )
    assert report.SOPInstanceUID == sr_uid
    [finding] = read_prediction_report(report)
    assert finding.probabilities == {"bright": row["p_bright"], "dark": row["p_dark"]}
    assert finding.predicted == row["predicted"] and finding.sop_uids == (sop_uid,)
    manifest = json.loads((world.local_base / "model.json").read_text())
    weights = manifest["fingerprint"]["weights"]  # the base by its id, as serve names it
    assert (finding.model.base, finding.model.base_fingerprint) == (weights[:12], weights)
    assert finding.model.adapter is None and finding.model.adapter_version is None
    fetched = [Path(d) for d in made if Path(d).name.startswith("medadapt-dicomweb-")]
    assert len(fetched) == 1 and not fetched[0].exists()  # the images went with the run


def test_a_3d_model_reads_a_ct_series_from_the_pacs_as_one_volume(world, tmp_path):
    out = tmp_path / "pred.csv"
    reference = world.pacs.reference("studies", world.ct_study, "series", world.ct_series)
    result = succeeded(run_cli("predict", "--base", world.volume_base, "--data", reference,
                         "--out", out, "--store-sr"))  # fmt: skip
    assert "fetched 8 images (1 series, 1 study)" in result.stdout
    [row] = pd.read_csv(out).to_dict("records")
    assert row["image"] == f"{world.ct_study}/{world.ct_series}"
    [sr_uid] = _stored(result)
    assert f"stored SR {sr_uid} for series {world.ct_series} (1 prediction)" in result.stdout
    reports = [s for s in world.source.series(world.ct_study) if s.modality == "SR"]
    [report] = world.source.instances(
        DicomwebReference(world.source.url, world.ct_study, reports[0].series_uid),
        images_only=False,
    )
    [finding] = read_prediction_report(report)
    assert len(finding.sop_uids) == 8  # every slice of the volume is referenced
    assert finding.probabilities == {"bright": row["p_bright"], "dark": row["p_dark"]}


def test_train_evaluate_and_adapt_on_the_studies_a_labels_csv_lists(world, tmp_path):
    cache, base, adapter = tmp_path / "cache", tmp_path / "base", tmp_path / "site_b"
    server = world.pacs.reference()
    common = ("--data", server, "--labels", world.labels)
    result = succeeded(run_cli("train-base", *common, *TINY, "--epochs", "1", "--group-column",
                         "site", "--groups", "A", "--dicomweb-cache", cache,
                         "--out", base))  # fmt: skip
    # site A's studies only: a trial's adapt on one site fetched every site's from the PACS
    assert "fetched 6 images (6 series, 6 studies)" in result.stdout
    assert len(list(cache.rglob("*.dcm"))) == 6  # kept: asked for
    # its patients' names and ids are the owner's alone (a trial's cache: 644 in 755 folders)
    assert {oct(f.stat().st_mode & 0o777) for f in cache.rglob("*.dcm")} == {"0o600"}
    assert {oct(d.stat().st_mode & 0o777) for d in cache.rglob("*") if d.is_dir()} == {"0o700"}
    assert not (cache / "dicomweb.csv").exists()  # the run's copy of --labels (patient ids) is not
    training = json.loads((base / "model.json").read_text())["training"]
    n_test = len(training["split"]["test_keys"])
    evaluation = tmp_path / "eval.json"
    cache.chmod(0o755)  # made readable by others since: said, the files stay private
    result = succeeded(run_cli("evaluate", "--base", base, *common, "--group-column", "site",
                               "--group", "A", "--json", evaluation,
                               "--dicomweb-cache", cache))  # fmt: skip
    said = " ".join((result.stdout + result.stderr).split())  # said as the fetch begins
    warned = (f"warning: --dicomweb-cache {cache} can be read by every user of this machine "
              "(mode 755), and the images kept there hold patients' names and ids: restrict it "
              f"with 'chmod -R go-rwx {cache}'")  # fmt: skip
    assert warned in said, said
    assert (f"6 images (6 series, 6 studies) from dicomweb+{world.pacs.root}: 6 read from "
            f"the cache ({cache}), 0 fetched") in " ".join(result.stdout.split())  # fmt: skip
    assert "fetched 6" not in result.stdout  # listed on the PACS, not fetched again
    assert json.loads(evaluation.read_text())["n"] == n_test  # held-out images only
    result = succeeded(run_cli("adapt", "--base", base, *common, "--group-column", "site",
                         "--group", "B", "--epochs", "1", "--out", adapter))  # fmt: skip
    assert "fetched 6 images (6 series, 6 studies)" in result.stdout  # site B's alone
    manifest = json.loads((adapter / "adapter.json").read_text())
    out = tmp_path / "pred.csv"
    result = succeeded(run_cli("predict", "--base", base, "--adapter", adapter, "--store-sr",
                         "--data", server, "--labels", world.labels, "--out", out))  # fmt: skip
    assert len(pd.read_csv(out)) == 12 and len(_stored(result)) == 12
    report = world.source.instances(
        DicomwebReference(world.source.url, world.studies[5]), images_only=False
    )
    findings = [read_prediction_report(ds) for ds in report if ds.Modality == "SR"]
    models = {f.model.adapter for group in findings for f in group}
    assert manifest["name"] in models  # the adapter's name is recorded
    validations = {f.model.validation for group in findings for f in group}
    assert validations == {validation_summary(manifest["metadata"]["metrics"])}  # how tested
    # an image a model trained on is said so in its report, as the terminal warned (a trial's
    # SR of a study the base trained on held no caution)
    table = pd.read_csv(out, dtype=str)
    trained = dict(zip(table["image"].str.rsplit("/", n=1).str[-1], table["trained_on"],
                       strict=True))  # fmt: skip
    assert any(isinstance(who, str) for who in trained.values())
    every = [f for study in world.studies for ds in world.source.instances(
        DicomwebReference(world.source.url, study), images_only=False) if ds.Modality == "SR"
        for f in read_prediction_report(ds) if f.model.adapter == manifest["name"]]  # fmt: skip
    assert len(every) == 12  # this run's reports only (earlier tests stored others)
    from medadapt.results import NEAR_COPY, in_sample_caution

    for finding in every:  # a near-copy (the synthetic films look alike) said as one
        who = trained.get(finding.sop_uids[0])
        said = [c for c in finding.cautions if c.startswith("this image")]
        assert said == ([in_sample_caution(who)] if isinstance(who, str) else []), said
        if isinstance(who, str) and who != NEAR_COPY:
            assert said[0] == (
                f"this image matches one that {who} trained on (by content): its prediction is "
                "in-sample, more confident and more often right than the model is on new "
                "patients"
            )
    assert "site" not in json.dumps(training.get("source", {}))  # no rows stored


def _token(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "token.txt"
    path.write_text(text)
    path.chmod(0o600)  # a token others may read is warned of
    return path


def test_bad_pacs_inputs_are_one_error_line(world, tmp_path):
    base, out = world.local_base, tmp_path / "p.csv"
    root, unknown = world.pacs.root, world.pacs.reference("studies", "1.2.3")
    predict = ("predict", "--base", base, "--out", out, "--data")
    assert error_line(run_cli(*predict, unknown)) == (
        f"error: study 1.2.3 not found on {root}: check --data"
    )
    wrong = world.pacs.reference("studies", world.studies[0]).replace(world.pacs.password, "no")
    assert error_line(run_cli(*predict, wrong)) == (
        f"error: the DICOMweb server {root} refused the credentials (HTTP 401): {CREDENTIALS}"
    )
    anonymous = world.pacs.reference("studies", world.studies[0], auth=False)
    token = _token(tmp_path, "not-the-token\n")
    assert "refused the credentials (HTTP 401)" in error_line(
        run_cli(*predict, anonymous, "--dicomweb-token-file", token)
    )
    missing = tmp_path / "none.txt"
    assert error_line(run_cli(*predict, anonymous, "--dicomweb-token-file", missing)) == (
        f"error: --dicomweb-token-file {missing} does not exist; check the path"
    )
    empty = _token(tmp_path, " \n")
    assert error_line(run_cli(*predict, anonymous, "--dicomweb-token-file", empty)) == (
        f"error: --dicomweb-token-file {empty} is empty: write the PACS's bearer token (or "
        "USER:PASSWORD) in it"
    )
    assert error_line(run_cli(*predict, world.root / "local", "--store-sr")) == (
        "error: --store-sr stores the predictions in the PACS the images came from: pass --data "
        "dicomweb+http(s)://HOST[:PORT]/dicom-web[/studies/UID[/series/UID]], or drop --store-sr"
    )
    assert error_line(run_cli(*predict, world.pacs.reference())) == (
        f"error: --data dicomweb+{root} names a server but no study, and no --labels is given: "
        "add /studies/STUDY_UID to --data, or pass --labels CSV with a StudyInstanceUID column"
    )
    assert error_line(run_cli("train-base", "--data", anonymous, "--out", tmp_path / "b")) == (
        f"error: --labels is required to train-base on --data {anonymous}: a CSV of "
        "StudyInstanceUID (or SeriesInstanceUID, SOPInstanceUID) and label columns"
    )
    assert error_line(run_cli(*predict, "dicomweb+http://pacs/dicom-web/studies/1.x")) == (
        "error: --data: study '1.x' is not a DICOM UID (digits and dots, at most 64 "
        "characters); copy the UID from the PACS"
    )
    assert not out.exists()


def test_labels_errors_name_the_labels_csv_and_outputs_are_checked_before_fetching(world, tmp_path):
    """A label the model does not know names --labels (not the private CSV it is joined into);
    an empty label or an output inside --base is refused before anything is fetched."""
    server, base = world.pacs.reference(), world.local_base
    table = pd.read_csv(world.labels, dtype=str)
    unknown, empty = tmp_path / "unknown.csv", tmp_path / "empty.csv"
    table.assign(label=["medium", *table["label"][1:]]).to_csv(unknown, index=False)
    table.assign(label=["bright", "", *table["label"][2:]]).to_csv(empty, index=False)
    adapt = ("adapt", "--base", base, "--data", server, "--epochs", "1", "--labels")
    result = run_cli(*adapt, unknown, "--out", tmp_path / "a")  # refused before fetching
    assert error_line(result) == (
        f"error: --labels {unknown} has 1 row labelled 'medium', not one of the model's "
        "classes ['bright', 'dark']: pass the new ones with --new-classes NAME[,NAME]"
    )
    assert "fetched" not in result.stdout
    result = run_cli(*adapt, empty, "--out", tmp_path / "a")
    assert error_line(result) == (
        f"error: empty 'label' (line 3 of --labels {empty}): fill it or drop the row"
    )
    assert "fetched" not in result.stdout  # refused before fetching
    study = world.pacs.reference("studies", world.studies[0])
    result = run_cli("predict", "--base", base, "--data", study, "--out", base / "p.csv")
    inside = base / "p.csv"
    assert error_line(result) == (
        f"error: --out {inside} is inside --base {base}; write it elsewhere"
    )
    assert "fetched" not in result.stdout and not (tmp_path / "a").exists()


def test_pacs_options_and_models_of_the_other_kind_are_refused_by_flag(world, tmp_path):
    study = world.pacs.reference("studies", world.studies[0], auth=False)
    local = world.root / "local"
    assert error_line(run_cli("predict", "--base", world.local_base, "--data", local, "--labels",
                          world.labels, "--out", tmp_path / "p.csv")) == (
        "error: --labels applies to --data dicomweb+http(s)://HOST[:PORT]/dicom-web[/studies/UID"
        f"[/series/UID]], but --data {local} is a local path: drop the option"
    )  # fmt: skip
    assert error_line(run_cli("evaluate", "--base", world.local_base, "--data", study,
                          "--path-column", "file", "--labels", world.labels)) == (
        f"error: --path-column applies to local files, but --data {study} is a PACS: drop the "
        "option"
    )  # fmt: skip
    table_base = tmp_path / "table_base"
    table_base.mkdir()
    (table_base / "model.json").write_text(json.dumps({"kind": "tabular"}))
    assert error_line(run_cli("predict", "--base", table_base, "--data", study,
                          "--out", tmp_path / "p.csv")) == (
        f"error: --base {table_base} is a model for tables, but --data {study} is image data "
        "from a PACS: pass a --base trained on images"
    )  # fmt: skip
    refused = run_cli("study", "--data", study, "--label", "label", "--group-column", "site",
                      "--groups", "A,B", "--group", "B", "--out", tmp_path / "s")  # fmt: skip
    assert error_line(refused) == (
        f"error: --data {study}: this command does not read from a PACS (train-base, adapt, "
        "evaluate and predict do); fetch the images to a folder and pass that"
    )  # fmt: skip


def test_a_report_series_named_as_images_is_one_line_saying_what_it_holds(world, tmp_path):
    """The series of an earlier report (its UID copied from the PACS viewer) is refused before
    anything is fetched, naming what it holds, not as "no image for this reference"."""
    film = radiograph("bright", "PAT-SR-SERIES", seed=300)
    report = prediction_report(
        [Finding({"bright": 0.6, "dark": 0.4}, [film])], ModelIdentity("base", "ab" * 32)
    )
    world.source.store([film, report])
    study, out = str(film.StudyInstanceUID), tmp_path / "p.csv"
    reference = world.pacs.reference("studies", study, "series", str(report.SeriesInstanceUID))
    result = run_cli("predict", "--base", world.local_base, "--out", out, "--data", reference)
    assert error_line(result) == (
        f"error: series {report.SeriesInstanceUID} of study {study} holds a structured report "
        "(SR), not images: name the study's image series, or the study, in --data"
    )
    assert "fetched" not in result.stdout and not out.exists()


def test_a_study_the_labels_list_and_the_pacs_lacks_names_its_line_of_labels(world, tmp_path):
    """A series UID written under StudyInstanceUID (the commonest slip) names --labels and the
    line, not --data."""
    table = pd.read_csv(world.labels, dtype=str)
    by_series = tmp_path / "by_series.csv"
    series = [s.series_uid for s in world.source.series(world.studies[0])]
    table.assign(StudyInstanceUID=[series[0], *table["StudyInstanceUID"][1:]]).to_csv(
        by_series, index=False
    )
    result = run_cli("adapt", "--base", world.local_base, "--data", world.pacs.reference(),
                     "--labels", by_series, "--epochs", "1", "--out", tmp_path / "a")  # fmt: skip
    assert error_line(result) == (
        f"error: study {series[0]} on line 2 of --labels {by_series} is not on "
        f"dicomweb+{world.pacs.root}: check that the StudyInstanceUID column holds study UIDs "
        "(a series UID goes under SeriesInstanceUID), and that --data names the PACS that has "
        "them"
    )
    assert not (tmp_path / "a").exists()


def test_an_unreadable_pacs_image_is_named_by_its_uids_not_a_temporary_path(world, tmp_path):
    """The error names the instance on the PACS (where it can be checked), never the temporary
    folder it was fetched into, which is gone by the time the line is read."""
    blank = radiograph("dark", "PAT-BLANK")
    blank.PixelData = bytes(len(blank.PixelData))  # every pixel 0
    world.source.store([blank])
    out = tmp_path / "p.csv"
    result = run_cli("predict", "--base", world.local_base, "--out", out, "--data",
                     world.pacs.reference("studies", str(blank.StudyInstanceUID)))  # fmt: skip
    assert result.code == 2 and "Traceback" not in result.stdout + result.stderr
    assert result.stderr.strip().splitlines()[-1] == (
        f"error: cannot read instance {blank.SOPInstanceUID} of series {blank.SeriesInstanceUID} "
        f"(study {blank.StudyInstanceUID}): a blank image: every pixel has the same value "
        "(nothing to score); check it on the PACS, or pass --on-error skip to leave it out"
    )
    assert "medadapt-dicomweb-" not in result.stdout + result.stderr and not out.exists()


def test_a_skipped_pacs_image_is_named_by_its_uids_in_the_run_s_own_lines(world, tmp_path):
    """``--on-error skip``: the line saying which file was left out named the temporary copy
    (``/tmp/medadapt-dicomweb-.../STUDY/SERIES/SOP.dcm``), gone by the time it is read."""
    blank = radiograph("dark", "PAT-SKIP", seed=3)
    blank.PixelData = bytes(len(blank.PixelData))  # every pixel 0
    good = radiograph("bright", "PAT-SKIP", seed=4)
    good.StudyInstanceUID = blank.StudyInstanceUID  # one study, two series
    world.source.store([blank, good])
    out = tmp_path / "p.csv"
    study = world.pacs.reference("studies", str(blank.StudyInstanceUID))
    result = succeeded(run_cli("predict", "--base", world.local_base, "--out", out,
                               "--on-error", "skip", "--data", study))  # fmt: skip
    said = " ".join(result.stdout.split())
    assert (f"skipped instance {blank.SOPInstanceUID} of series {blank.SeriesInstanceUID} "
            f"(study {blank.StudyInstanceUID}): a blank image") in said  # fmt: skip
    assert "medadapt-dicomweb-" not in result.stdout + result.stderr
    assert len(pd.read_csv(out)) == 1


def test_a_pacs_run_s_lines_name_the_labels_csv_and_instances_not_private_files(tmp_path):
    """What a run on a PACS prints about the CSV it joined from ``--labels`` ("images are kept
    together by column 'patient' of dicomweb.csv") names ``--labels``; a fetched file, its
    UIDs."""
    from types import SimpleNamespace

    from medadapt.cli.dicomweb import _pacs_words

    folder = tmp_path / "medadapt-dicomweb-x"
    data = folder / "dicomweb.csv"
    labels = SimpleNamespace(path=Path("labels.csv"))
    rewrite = _pacs_words(folder, data, labels, "dicomweb+http://pacs/dicom-web")
    assert rewrite("images are kept together by column 'patient' of dicomweb.csv (it names") == (
        "images are kept together by column 'patient' of --labels labels.csv (it names"
    )
    assert (
        rewrite(f"3 files of {data.name}: intensities")
        == "3 files of --labels labels.csv: intensities"
    )
    assert rewrite(f"line 4 of {data}: no label") == "--labels labels.csv: no label"
    assert rewrite(f"every labelled image of --data {data} (all images) was used") == (
        "every labelled image of --labels labels.csv (all images) was used"  # not "--data --labels"
    )
    assert rewrite(f"{folder}/1.2.3/1.2.4/1.2.5.dcm: shaped 4:1") == (
        "instance 1.2.5 of series 1.2.4 (study 1.2.3): shaped 4:1"
    )
    assert rewrite("mydicomweb.csv and dicomweb.csv.bak") == "mydicomweb.csv and dicomweb.csv.bak"
    # without --labels, the --data reference the CSV lists (a trial's predict read "1 of 1
    # images in dicomweb.csv is smaller than 8 px")
    plain = _pacs_words(folder, data, None, "dicomweb+http://pacs/dicom-web/studies/1.2")
    assert plain(f"1 of 1 images in {data.name} is smaller than 8 px") == (
        "1 of 1 images in --data dicomweb+http://pacs/dicom-web/studies/1.2 is smaller than 8 px"
    )
    assert plain(f"every image of --data {data} was used") == (
        "every image of --data dicomweb+http://pacs/dicom-web/studies/1.2 was used"
    )


def _reports_of(world: World, study: str) -> list:
    """The findings of every SR stored in ``study``, read back from the PACS."""
    series = [s.series_uid for s in world.source.series(study) if s.modality == "SR"]
    return [
        finding
        for uid in series
        for ds in world.source.instances(
            DicomwebReference(world.source.url, study, uid), images_only=False
        )
        for finding in read_prediction_report(ds)
    ]


def test_an_images_caution_is_in_its_report_and_a_usual_image_has_none(world, tmp_path):
    """``predict --store-sr`` warned of an odd image and wrote how in ``outside_training``,
    but its SR held only the finding: a PACS reader saw the score without the caution. Then
    it held those few words, not what ``serve`` says of the same image (how, and what to do):
    now the report holds serve's notes, word for word."""
    from medadapt.data.image_schema import ImageSchema
    from medadapt.serve.image_decode import decode
    from medadapt.serve.image_inputs import ImageServing, Upload

    odd, usual = radiograph("bright", "PAT-3TO1", seed=400), radiograph("dark", "PAT-3TO1", seed=7)
    odd.set_pixel_data(np.tile(odd.pixel_array, (1, 3)), "MONOCHROME2", bits_stored=16)  # 3:1
    usual.StudyInstanceUID = odd.StudyInstanceUID  # two series of one study: two reports
    world.source.store([odd, usual])
    study, out = str(odd.StudyInstanceUID), tmp_path / "pred.csv"
    succeeded(run_cli("predict", "--base", world.local_base, "--store-sr", "--out", out,
                      "--data", world.pacs.reference("studies", study)))  # fmt: skip
    table = pd.read_csv(out, dtype=str, keep_default_na=False)
    unlike = {row["image"].split("/")[2]: row["outside_training"] for _, row in table.iterrows()}
    assert unlike == {odd.SOPInstanceUID: "shaped 3:1", usual.SOPInstanceUID: ""}
    cautions = {finding.sop_uids[0]: finding.cautions for finding in _reports_of(world, study)}
    schema = ImageSchema.from_dict(
        json.loads((world.local_base / "model.json").read_text())["schema"]
    )
    files = [Upload(path.stem, path, "dicom") for path in save([odd, usual], tmp_path / "files")]
    served = {sample.file: sample.notes for sample in decode(files, schema, ImageServing())}
    assert cautions == served  # the notes serve answers for the same files
    assert cautions[usual.SOPInstanceUID] == ()
    [shaped] = cautions[odd.SOPInstanceUID]
    assert shaped.startswith(
        "shaped 3:1 (longer side to shorter), but the model's training "
        "images were 1:1: padded to a square"
    )  # how, not a few words


def test_a_series_this_model_reported_on_is_not_reported_again_and_others_are_counted(
    world, tmp_path
):
    """Each ``predict --store-sr`` added another SR to the study, unsaid; then a study that
    held a report of this very model version was refused whole, so a rerun after a store
    that failed half-way could not store the rest. A series a report of this very model
    covers is said and not reported again (``--store-sr-again`` stores another; ``--force``
    only replaces --out), and the medadapt reports of other versions are counted in a note."""
    film = radiograph("bright", "PAT-AGAIN", seed=500)
    other = prediction_report(  # a report of another model version (another base)
        [Finding({"bright": 0.7, "dark": 0.3}, [film])], ModelIdentity.of("cd" * 32)
    )
    blank = copy.deepcopy(film)  # an image-class instance without pixel data, in its series
    blank.SOPInstanceUID = blank.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    del blank.PixelData
    world.source.store([film, other, blank])
    study = str(film.StudyInstanceUID)
    reference = world.pacs.reference("studies", study)

    def predict(out: str, *more: str) -> CliResult:
        return run_cli("predict", "--base", world.local_base, "--store-sr", "--data", reference,
                       "--out", tmp_path / out, *more)  # fmt: skip

    first = succeeded(predict("first.csv"))
    [sr_uid] = _stored(first)
    said = " ".join(first.stdout.split())
    assert (  # a trial: "fetched 1 image" said nothing of what was left out
        "note: passed over as no image: 1 series of medadapt reports and 1 instance without "
        "pixel data in an image series"
    ) in said
    assert (f"note: study {study} already held 1 earlier medadapt report (of other model "
            "versions): the new report is stored beside it") in said  # fmt: skip
    again = succeeded(predict("again.csv"))
    weights = json.loads((world.local_base / "model.json").read_text())["fingerprint"]["weights"]
    assert (
        f"note: series {film.SeriesInstanceUID} already holds a report from this model "
        f"version, base model {weights[:12]} alone (SR {sr_uid}): not stored again; pass "
        "--store-sr-again to store another"
    ) in " ".join(again.stdout.split())
    assert not _stored(again) and "earlier medadapt report" not in again.stdout
    assert (  # its own report of the first run among them (a trial read it as another kind)
        "note: passed over as no image: 2 series of medadapt reports and 1 instance without "
        "pixel data in an image series"
    ) in " ".join(again.stdout.split())
    assert (tmp_path / "again.csv").exists()  # the predictions, all the same
    assert len(_reports_of(world, study)) == 2  # nothing stored
    replaced = succeeded(predict("first.csv", "--force"))  # --force replaces --out, only that
    assert not _stored(replaced) and len(_reports_of(world, study)) == 2
    forced = succeeded(predict("third.csv", "--store-sr-again"))
    assert len(_stored(forced)) == 1 and len(_reports_of(world, study)) == 3
    assert (
        f"study {study} already held 2 earlier medadapt reports (1 of this very model "
        "version, stored again with --store-sr-again)"
    ) in " ".join(forced.stdout.split())
    alone = run_cli("predict", "--base", world.local_base, "--store-sr-again", "--data",
                    reference, "--out", tmp_path / "alone.csv")  # fmt: skip
    assert error_line(alone) == (
        "error: --store-sr-again says to store a report again, but nothing is stored without "
        "--store-sr: add --store-sr, or drop --store-sr-again"
    )


def test_a_pacs_that_refuses_to_store_says_so_and_that_the_predictions_are_written(world, tmp_path):
    """A read-only account's 403 to STOW-RS said "refused the credentials: pass a valid bearer
    token" of the token that had just read the study, and left --out written unsaid."""
    from tests.pacs.proxy import PacsProxy

    token, out = _token(tmp_path, "r" * 24), tmp_path / "ro.csv"
    with PacsProxy(world.pacs, token="r" * 24, read_only=True) as gateway:
        result = run_cli("predict", "--base", world.local_base, "--store-sr", "--out", out,
                         "--dicomweb-token-file", token,
                         "--data", gateway.reference("studies", world.studies[1]))  # fmt: skip
    assert result.code == 2 and "Traceback" not in result.stdout + result.stderr
    assert result.stderr.strip().splitlines()[-1] == (  # after the fetch's own line
        f"error: the DICOMweb server {gateway.root} refused to store the report (HTTP 403): "
        "this account may read but not write (STOW-RS): ask the PACS administrator for write "
        "access, or drop --store-sr; no report was stored, but the predictions were written "
        f"to --out {out} (rerun with --force to replace it: the series reported already are "
        "not reported again)"
    )
    assert "wrote 1 prediction to" in result.stdout and "stored SR" not in result.stdout
    [row] = pd.read_csv(out).to_dict("records")
    assert row["image"].split("/")[0] == world.studies[1]  # named by UIDs, complete


def test_a_pacs_address_without_the_dicomweb_prefix_is_named_so(world, tmp_path):
    """``--data http://HOST/dicom-web/studies/UID`` said "--data http:/HOST... does not exist"
    (its // folded), or with a token file "is a local path: drop the option"."""
    study = world.studies[0]
    bare = world.pacs.reference("studies", study).removeprefix("dicomweb+")  # user:pw@ in it
    shown = world.pacs.reference("studies", study, auth=False).removeprefix("dicomweb+")
    said = (f"error: --data {shown}: a PACS address needs the dicomweb+ prefix: --data "
            f"dicomweb+{shown}")  # fmt: skip
    scheme, rest = shown.split("://", 1)  # with credentials: a fix that keeps them
    kept = (f"error: --data {shown}: a PACS address needs the dicomweb+ prefix: --data "
            f"dicomweb+{scheme}://USER:PASSWORD@{rest} (your user:password@ as you wrote "
            "it)")  # fmt: skip
    token = _token(tmp_path, "x" * 24)
    predict = ("predict", "--base", world.local_base, "--out", tmp_path / "p.csv", "--data")
    study_of = ("study", "--label", "label", "--group-column", "site", "--groups", "A,B",
                "--group", "B", "--out", tmp_path / "s", "--data")  # fmt: skip
    results = [run_cli(*predict, bare), run_cli(*predict, shown, "--dicomweb-token-file", token),
               run_cli(*study_of, bare)]  # fmt: skip
    for result, expected in zip(results, (kept, said, kept), strict=True):
        assert error_line(result) == expected
        assert world.pacs.password not in result.stdout + result.stderr
    assert not (tmp_path / "p.csv").exists()


def test_a_pacs_rest_root_is_said_to_be_no_dicomweb_root(world, tmp_path):
    """Orthanc's REST root (no /dicom-web) said "study ... not found: check --data" of a study
    it holds."""
    host = f"{world.pacs.host}:{world.pacs.port}"
    login = f"{world.pacs.user}:{world.pacs.password}@"
    rest = f"dicomweb+http://{login}{host}/studies/{world.studies[0]}"
    result = run_cli("predict", "--base", world.local_base, "--out", tmp_path / "p.csv",
                     "--data", rest)  # fmt: skip
    assert error_line(result) == (
        f"error: http://{host} is not a DICOMweb root (QIDO-RS answered 400 at "
        f"http://{host}/studies): check the path in --data, e.g. "
        f"dicomweb+http://{host}/dicom-web"
    )
    assert world.pacs.password not in result.stderr


@pytest.mark.parametrize(
    ("spelt", "said"),
    [
        ("brigth", "has {n} rows labelled 'brigth' (spelt like 'bright': a typo?), not one of "
         "the model's classes ['bright', 'dark']: correct the label to 'bright'"),
        ("Bright", "spells the model's classes another way ('Bright' for 'bright': they differ "
         "only in upper/lower case or spacing): rename the labels to the model's spelling "
         "'bright'"),
    ],
    ids=["typo", "case"],
)  # fmt: skip
def test_a_label_the_model_lacks_is_refused_before_any_image_is_fetched(
    world, tmp_path, spelt, said
):
    """``evaluate --labels`` with a misspelt label fetched every image, then refused it."""
    table = pd.read_csv(world.labels, dtype=str)
    labels = tmp_path / "labels.csv"
    table.assign(label=table["label"].replace("bright", spelt)).to_csv(labels, index=False)
    result = run_cli("evaluate", "--base", world.local_base, "--data", world.pacs.reference(),
                     "--labels", labels)  # fmt: skip
    n = int((table["label"] == "bright").sum())  # the label file's rows, not images: unknown
    assert n > 1 and error_line(result) == f"error: --labels {labels} {said.format(n=n)}"
    assert "fetched" not in result.stdout
