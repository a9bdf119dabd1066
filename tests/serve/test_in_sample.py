"""A served answer says when the adapter answering trained on the record sent: ``predict``
marks such rows (``trained_on``), the service answered them as any new patient's. ``registry
add`` keeps the adapter's split file (keyed hashes, never values) in the registry; ``gc``
keeps it, ``verify`` checks it, ``export`` never carries it (the rows stay where they are)."""

from __future__ import annotations

import json
import tarfile

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from medadapt.registry import Registry
from medadapt.serve.app import create_app
from medadapt.serve.trained_rows import in_sample_note
from tests.serve.recorded import SITE_C_CAUTION, held_out_rows

pytestmark = pytest.mark.xdist_group("serve")
TOKEN = "t" * 32
AUTH = {"Authorization": f"Bearer {TOKEN}"}
WHO = "adapter site_c@1"


def _records(frame: pd.DataFrame) -> list[dict]:
    return json.loads(frame.drop(columns=["outcome"]).to_json(orient="records"))


def _trained_rows(served_registry, n: int) -> pd.DataFrame:
    split = json.loads((served_registry["adapters"]["site_c"] / "split.json").read_text())
    return pd.read_csv(served_registry["data"]).loc[split["train_positions"][:n]]


def _answers(root, instances: list[dict]) -> list[dict]:
    with TestClient(create_app(root, token=TOKEN)) as client:
        reply = client.post(
            "/v1/predict", json={"adapter": "site_c", "instances": instances}, headers=AUTH
        )
    assert reply.status_code == 200, reply.text
    return reply.json()["predictions"]


def test_a_record_the_adapter_trained_on_is_flagged_in_sample(served_registry):
    """Three of site_c's training rows (one re-typed as a spreadsheet would: its fields in
    another order, a number as text with a trailing zero) among two it held out."""
    trained = _records(_trained_rows(served_registry, 3))
    retyped = dict(reversed(list(trained[2].items())))
    retyped["age"] = f"{float(trained[2]['age']):.2f}"
    held = _records(held_out_rows(served_registry).head(2))
    answers = _answers(served_registry["registry"], [trained[0], *held, trained[1], retyped])
    flags = [answer["trained_on"] for answer in answers]
    assert flags == [WHO, None, None, WHO, WHO]
    said = in_sample_note(WHO, measured=False)
    assert said == (
        "this record matches a row that adapter site_c@1 trained on (by content): its "
        "prediction is in-sample, more confident and more often right than the model is on "
        "new patients"
    )
    for answer in answers:
        flagged = answer["trained_on"] is not None
        assert (said in answer["note"]) is flagged
        assert answer["note"].startswith(SITE_C_CAUTION)  # which model answered, first
    # the same records, scored alike: the flag changes the words, never the figures
    again = _answers(served_registry["registry"], held)
    assert (
        [a["probability"] for a in again]
        == pytest.approx(  # (batched otherwise: float32)
            [a["probability"] for a in answers[1:3]], abs=1e-6
        )
    )


def test_the_kept_split_file_survives_gc_is_checked_by_verify_and_never_exported(
    registry_copy, tmp_path
):
    registry = Registry(registry_copy)
    version = registry.get("site_c@1")
    manifest = json.loads(registry.objects.path(version.manifest_blob).read_bytes())
    digest = manifest["metadata"]["split"]["positions_sha256"]
    assert registry.objects.path(digest).is_file()
    registry.gc(min_age_s=0)
    assert registry.objects.path(digest).is_file()  # referenced: kept
    assert registry.verify().problems == []
    exported = registry.export("site_c@1", tmp_path / "site_c.tar.gz")
    with tarfile.open(exported.path) as archive:
        assert not [m for m in archive.getnames() if m.endswith("split.json")]
    # damaged: said by verify (with the fix), and the answer simply carries no flag
    blob = registry.objects.path(digest)
    blob.chmod(0o644)
    blob.write_bytes(blob.read_bytes() + b" ")
    (problem,) = registry.verify().problems
    assert problem == (
        "adapter site_c@1: its split file (which rows trained it, as keyed hashes) is damaged: "
        "served answers cannot say which patients it trained on; run 'medadapt registry --root "
        f"{registry_copy} add ADAPTER_DIR --name site_c' on its adapter directory to keep it "
        "again"
    )
    assert registry.kept_split(version) == {}


def test_a_damaged_split_file_is_not_read_and_the_adapter_is_served(served_registry, registry_copy):
    """The checkout links the stored file: damaged there, it is damaged in the checkout a
    server made before; it is checked against its manifest's checksum, and skipped."""
    registry = Registry(registry_copy)
    trained = _records(_trained_rows(served_registry, 2))
    assert [a["trained_on"] for a in _answers(registry_copy, trained)] == [WHO, WHO]
    version = registry.get("site_c@1")
    manifest = json.loads(registry.objects.path(version.manifest_blob).read_bytes())
    blob = registry.objects.path(manifest["metadata"]["split"]["positions_sha256"])
    checked_out = registry.checkouts / f"site_c@1-{version.manifest_blob[:16]}" / "split.json"
    for path in (blob, checked_out):  # (one file where the checkout links the blob)
        path.chmod(0o644)
        path.write_bytes(path.read_bytes()[: len(path.read_bytes()) // 2])  # cut: not JSON
    answers = _answers(registry_copy, trained)
    assert [a["trained_on"] for a in answers] == [None, None]
    assert all(a["predicted"] is not None for a in answers)


def test_a_record_sent_without_a_field_is_still_recognised(served_registry):
    """The model reads a field left out as missing: a training row sent without its
    unmeasured field is still one it trained on, whatever else the request holds."""
    rows = _trained_rows(served_registry, 40)
    gap = rows[rows["marker"].isna()].head(1)  # a training row whose marker was not measured
    assert len(gap) == 1
    (record,) = _records(gap)
    without = {k: v for k, v in record.items() if k != "marker"}
    answers = _answers(served_registry["registry"], [without])  # alone: no key anywhere
    assert answers[0]["trained_on"] == WHO
    answers = _answers(served_registry["registry"], [record, without])
    assert [a["trained_on"] for a in answers] == [WHO, WHO]


def test_add_says_when_the_split_file_its_manifest_names_is_not_kept(served_registry, tmp_path):
    """Absent or changed beside the adapter: the version is added, and told that a server
    cannot flag its training rows (nothing said of an archive, which never carries one)."""
    import shutil

    registry = Registry(tmp_path / "registry", create=True)
    for name, change in (("gone", "remove"), ("changed", "append")):
        folder = tmp_path / name
        shutil.copytree(served_registry["adapters"]["site_c"], folder)
        split = folder / "split.json"
        if change == "remove":
            split.unlink()
        else:
            split.write_bytes(split.read_bytes() + b" ")
        added = registry.add(folder, name=name)
        said = [n for n in added.notices if "split.json" in n]
        why = (f"is not beside it in {folder}" if change == "remove" else
               "does not match the checksum its adapter.json records (changed since it was "
               "saved)")  # fmt: skip
        assert said == [
            f"note: {name}@1: its split.json (which rows trained it) {why}: a server cannot "
            "say which patients it trained on (their predictions in-sample); add it from the "
            "folder 'medadapt adapt' wrote"
        ]
        assert registry.kept_split(added.version) == {}
    kept = registry.add(served_registry["adapters"]["site_c"], name="kept")
    assert not [n for n in kept.notices if "split.json" in n]
    assert list(registry.kept_split(kept.version)) == ["split.json"]


def test_a_record_the_base_trained_on_is_flagged_and_add_base_keeps_its_split_file(
    served_registry, registry_copy
):
    """A row of site A that trained the base (not adapter site_c) is said in-sample of the
    base model; ``add-base`` keeps the base's split file beside its registered copy (and
    puts it beside a copy registered before it was kept)."""
    record = json.loads((served_registry["base"] / "model.json").read_text())
    frame = pd.read_csv(served_registry["data"])
    trained = frame.loc[record["training"]["split"]["train_positions"]]
    (of_a,) = _records(trained[trained["site"] == "A"].head(1))  # sent to site C's adapter,
    of_a.pop("site")  # which did not train on it (its site left out: no group conflict)
    rows = [of_a, *_records(held_out_rows(served_registry).head(1))]
    with TestClient(create_app(served_registry["registry"], token=TOKEN)) as client:
        reply = client.post("/v1/predict", json={"adapter": "site_c", "instances": rows},
                            headers=AUTH)  # fmt: skip
    answers = reply.json()["predictions"]
    assert [a["trained_on"] for a in answers] == ["the base model", None]
    assert in_sample_note("the base model", measured=False) in answers[0]["note"]
    (copy,) = (registry_copy / "bases").iterdir()
    original = (served_registry["base"] / "split.json").read_bytes()
    (copy / "split.json").unlink()
    Registry(registry_copy).add_base(served_registry["base"])
    assert (copy / "split.json").read_bytes() == original
    # damaged: said by verify, with the fix, which puts it back
    (copy / "split.json").write_bytes(original + b" ")
    (problem,) = Registry(registry_copy).verify().base_problems
    assert problem.startswith(
        f"base model {copy.name}: its split file (which rows it trained on, as keyed hashes) is "
        "damaged: served answers cannot say which patients it trained on; add it again with "
        f"'medadapt registry --root {registry_copy} add-base BASE_DIR'"
    )
    Registry(registry_copy).add_base(served_registry["base"])
    assert (copy / "split.json").read_bytes() == original
    assert Registry(registry_copy).verify().base_problems == []
