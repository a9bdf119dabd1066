"""The registry library: versions, lineage, promotion, removal, integrity, base binding."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import threading

import pytest
import torch

from medadapt.adapters import AdapterModel
from medadapt.errors import AdapterFileError, ConfigError
from medadapt.registry import Registry, RegistryError
from tests.registry.helpers import DATA_SUMMARY, METRICS, metadata, tiny_base


def test_versions_auto_increment_with_the_previous_as_parent(registry, adapter_dir):
    first = registry.add(adapter_dir(1), name="heart")
    second = registry.add(adapter_dir(2), name="heart")
    third = registry.add(adapter_dir(3), name="heart", parent=1)
    orphan = registry.add(adapter_dir(4), name="heart", parent=None)
    assert [r.version.ref for r in (first, second, third, orphan)] == [
        "heart@1",
        "heart@2",
        "heart@3",
        "heart@4",
    ]
    assert all(r.new for r in (first, second, third, orphan))
    assert [v.parent for v in registry.list("heart")] == [None, 1, 1, None]
    assert registry.names() == ["heart"]


def test_a_version_records_summaries_from_the_manifest(registry, adapter_dir):
    v = registry.add(adapter_dir(1), name="heart").version
    assert v.method == "lora"
    assert v.config["r"] == 2
    assert v.task == "heart disease (binary)"
    assert v.data_summary == DATA_SUMMARY
    assert v.metrics == METRICS
    assert v.intended_use == "Research use: triage support at VA Long Beach."
    assert v.base_fingerprint == AdapterModel(tiny_base()).fingerprint.to_dict()
    assert v.weights_bytes == os.path.getsize(adapter_dir(1) / "adapter.safetensors")
    assert v.registered.endswith("+00:00") and v.trained
    assert v.card.startswith("# heart@1\n")


def test_missing_metadata_is_recorded_as_absent(registry, adapter_dir):
    v = registry.add(adapter_dir(1, meta={}), name="bare").version
    assert (v.task, v.data_summary, v.metrics, v.intended_use) == (None, {}, {}, None)
    assert "No training-data summary was recorded" in v.card


def test_the_default_name_is_the_adapters_own(registry, adapter_dir):
    assert registry.add(adapter_dir(1)).version.ref == "site_a@1"


def test_an_adapt_output_with_the_adapter_one_level_down_is_found(registry, tmp_path):
    from tests.registry.helpers import make_adapter

    run = tmp_path / "run"
    make_adapter(run / "adapter", seed=3)
    (run / "report.html").write_text("<html></html>")
    assert registry.add(run, name="heart").version.ref == "heart@1"


def test_a_damaged_index_gives_a_one_line_error(registry):
    registry.index.path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(RegistryError, match=r"^registry index .* is damaged \(file is not a"):
        registry.list()


def test_adding_the_same_adapter_twice_adds_nothing(registry, adapter_dir):
    registry.add(adapter_dir(1), name="heart")
    generation = registry.generation()
    again = registry.add(adapter_dir(1), name="heart")
    assert (again.version.ref, again.new) == ("heart@1", False)
    assert registry.generation() == generation
    # the same files under another name are a new version there, stored once
    assert registry.add(adapter_dir(1), name="copy").version.ref == "copy@1"
    assert len(registry.objects.digests()) == 2


def test_references_resolve_to_promoted_latest_or_exact(registry, adapter_dir):
    for seed in (1, 2, 3):
        registry.add(adapter_dir(seed), name="heart")
    assert registry.resolve("heart") == ("heart", 3)  # nothing promoted: the latest
    registry.promote("heart@2")
    assert registry.resolve("heart") == ("heart", 2)
    assert registry.resolve("heart@promoted") == ("heart", 2)
    assert registry.resolve("heart@latest") == ("heart", 3)
    assert registry.resolve("heart@1") == ("heart", 1)
    assert registry.promoted("heart").ref == "heart@2"
    assert {n: v.ref for n, v in registry.promoted_versions().items()} == {"heart": "heart@2"}


def test_unknown_references_get_one_line_errors(registry, adapter_dir):
    registry.add(adapter_dir(1), name="heart")
    with pytest.raises(RegistryError) as err:
        registry.get("heart@5")
    assert str(err.value) == (
        "heart has no version 5 (registered versions: 1); use one of those, e.g. heart@1"
    )
    with pytest.raises(RegistryError) as err:
        registry.get("lung")
    assert str(err.value) == (
        f"no adapter named 'lung' in registry {registry.root}; see the names with "
        f"'medadapt registry --root {registry.root} list'"
    )
    with pytest.raises(RegistryError) as err:
        registry.get("heart@promoted")
    assert str(err.value) == (
        f"no version of heart is promoted; promote one with 'medadapt registry --root "
        f"{registry.root} promote heart@1'"
    )
    with pytest.raises(ConfigError) as err:
        registry.get("heart@x")
    assert str(err.value) == (
        "version reference 'heart@x' is invalid: use NAME, NAME@N, NAME@latest or "
        "NAME@promoted (e.g. pneumonia@3)"
    )
    with pytest.raises(ConfigError, match="registry name 'bad name' is invalid"):
        registry.add(adapter_dir(2), name="bad name")
    with pytest.raises(RegistryError) as refused:
        registry.add(adapter_dir(2), name="heart", parent=7)
    assert str(refused.value) == (  # its versions named: 'see registry list heart' lacked --root
        "--parent 7: heart has no version 7 (registered versions: 1); give one of those or "
        "drop --parent"
    )


def _removed_on(registry, name: str, version: int) -> str:
    """The removal time the log records, as messages write it (``2026-12-03 20:27 UTC``)."""
    (at,) = [e.at for e in registry.history(name) if (e.action, e.version) == ("remove", version)]
    return dt.datetime.fromisoformat(at).astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def test_a_removed_version_is_said_removed_and_the_others_listed_by_number(registry, adapter_dir):
    """A trial: 'show ch@1' said "ch has no version 1 (it has 2)": the 2, a version number,
    read as a count, and nothing said that ch@1 was removed, though the log records it."""
    for seed in (1, 2, 3):
        registry.add(adapter_dir(seed), name="ch")
    registry.remove("ch@1")
    when = _removed_on(registry, "ch", 1)
    with pytest.raises(RegistryError) as err:
        registry.get("ch@1")
    assert str(err.value) == (
        f"ch has no version 1 (it was removed on {when}; registered versions: 2, 3); use one "
        "of those, e.g. ch@3"
    )
    with pytest.raises(RegistryError) as err:
        registry.get("ch@9")  # never registered: no removal to speak of
    assert str(err.value) == (
        "ch has no version 9 (registered versions: 2, 3); use one of those, e.g. ch@3"
    )
    with pytest.raises(RegistryError) as err:
        registry.add(adapter_dir(4), name="ch", parent=1)
    assert str(err.value) == (
        f"--parent 1: ch has no version 1 (it was removed on {when}; registered versions: 2, "
        "3); give one of those or drop --parent"
    )
    registry.remove_all("ch")
    with pytest.raises(RegistryError) as err:
        registry.add(adapter_dir(4), name="ch", parent=3)
    assert str(err.value) == (
        f"--parent 3: ch has no version 3 (it was removed on {_removed_on(registry, 'ch', 3)}; "
        "no version is registered); drop --parent"
    )


def test_promotion_bumps_the_generation_and_is_logged(registry, adapter_dir):
    registry.add(adapter_dir(1), name="heart")
    registry.add(adapter_dir(2), name="heart")
    g0 = registry.generation()
    registry.promote("heart@1")
    assert registry.generation() == g0 + 1
    registry.promote("heart@1")  # already served: no change
    assert registry.generation() == g0 + 1
    registry.promote("heart@latest")
    assert registry.promoted("heart").ref == "heart@2"
    assert registry.demote("heart").ref == "heart@2"
    assert registry.promoted("heart") is None
    assert registry.demote("heart") is None
    assert registry.generation() == g0 + 3
    actions = [(e.action, e.version) for e in registry.history("heart")]
    assert actions == [("demote", 2), ("promote", 2), ("promote", 1), ("add", 2), ("add", 1)]
    # the newest version as the example (a trial was offered south@3 of versions 1 and 2)
    with pytest.raises(RegistryError, match="promote needs an explicit version such as heart@2 "):
        registry.promote("heart")


def test_removal_protects_the_served_version_and_never_reuses_numbers(registry, adapter_dir):
    for seed in (1, 2):
        registry.add(adapter_dir(seed), name="heart")
    registry.promote("heart@2")
    with pytest.raises(RegistryError) as err:
        registry.remove("heart@2")
    assert str(err.value) == (
        "heart@2 is the promoted (served) version; promote another version first, or pass "
        "--force to stop serving heart"
    )
    with pytest.raises(RegistryError, match=r"rm needs an explicit version such as heart@2;"):
        registry.remove("heart")
    assert registry.remove("heart@2", force=True).ref == "heart@2"
    assert registry.promoted("heart") is None
    # its blobs are freed; heart@1's stay
    assert len(registry.objects.digests()) == 2
    assert registry.add(adapter_dir(3), name="heart").version.ref == "heart@3"
    assert [v.ref for v in registry.remove_all("heart")] == ["heart@1", "heart@3"]
    assert registry.list() == [] and registry.objects.digests() == []
    assert registry.add(adapter_dir(4), name="heart").version.ref == "heart@4"


def test_open_adapter_gives_a_directory_that_loads_the_same_weights(registry, adapter_dir):
    source = adapter_dir(1)
    registry.add(source, name="heart")
    model = AdapterModel(tiny_base())
    path = registry.open_adapter("heart", base=model.fingerprint)
    assert sorted(p.name for p in path.iterdir()) == ["adapter.json", "adapter.safetensors"]
    assert model.load_adapter(path, name="heart") == "heart"
    reference = AdapterModel(tiny_base())
    reference.load_adapter(source)
    x = torch.randn(3, 4)
    with torch.no_grad():
        reference.set_active("site_a")
        model.set_active("heart")
        assert torch.equal(model(x), reference(x))
    assert registry.open_adapter("heart@1") == path  # checked out once, verified every time


def test_an_adapter_for_another_base_is_refused(registry, adapter_dir):
    registry.add(adapter_dir(1), name="heart")
    other = AdapterModel(tiny_base(seed=5)).fingerprint
    with pytest.raises(AdapterFileError) as err:
        registry.open_adapter("heart@1", base=other)
    mine = registry.get("heart@1").base_fingerprint["weights"]
    assert str(err.value) == (
        f"registry adapter heart@1 was trained on base weights {mine[:12]}, but the loaded "
        f"base has {other.weights[:12]}; load the base model it was trained on"
    )
    assert [v.ref for v in registry.list(base=mine[:10])] == ["heart@1"]
    assert registry.list(base=other) == []


def _tamper(path, *, truncate: bool = False) -> None:
    os.chmod(path, 0o644)
    data = bytearray(path.read_bytes())
    if truncate:
        data = data[: len(data) // 2]
    else:
        data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


def test_tampered_or_truncated_files_are_refused_on_load(registry, adapter_dir):
    v = registry.add(adapter_dir(1), name="heart").version
    registry.add(adapter_dir(2), name="heart")
    weights = registry.objects.path(v.weights_blob)
    path = registry.open_adapter("heart@1")
    _tamper(weights)  # the checkout is a hard link: both change
    fix = (
        f"repair it by adding it again ('medadapt registry --root {registry.root} add "
        f"ADAPTER_DIR --name heart'), or remove it with 'medadapt registry --root "
        f"{registry.root} rm heart@1'"
    )
    with pytest.raises(AdapterFileError) as err:
        registry.open_adapter("heart@1")
    assert str(err.value) == (
        f"adapter heart@1: registry file {weights} does not match its checksum (tampered or "
        f"corrupted); {fix}"
    )
    with pytest.raises(AdapterFileError):
        AdapterModel(tiny_base()).load_adapter(path)
    with pytest.raises(AdapterFileError):
        registry.promote("heart@1")
    with pytest.raises(AdapterFileError):
        registry.export("heart@1", registry.root.parent)
    manifest = registry.objects.path(v.manifest_blob)
    _tamper(manifest, truncate=True)
    report = registry.verify()
    assert not report.ok and report.checked == ["heart@1", "heart@2"]
    assert report.problems == [
        f"adapter heart@1: registry file {weights} does not match its checksum (tampered or "
        f"corrupted); {fix}"
    ]
    assert registry.verify("heart@2").ok


def test_a_replaced_checkout_is_rebuilt_from_verified_blobs(registry, adapter_dir):
    registry.add(adapter_dir(1), name="heart")
    path = registry.open_adapter("heart@1")
    (path / "adapter.safetensors").unlink()
    (path / "adapter.safetensors").write_bytes(b"not weights")
    assert registry.open_adapter("heart@1") == path
    AdapterModel(tiny_base()).load_adapter(path)


@pytest.mark.parametrize(
    ("extra", "path", "what"),
    [
        ({"data_summary": {"patient_ids": list(range(100))}}, "data_summary.patient_ids", 100),
        ({"metrics": {"y_score": [0.5] * 40}}, "metrics.y_score", 40),
        ({"cohort": [{"age": 60, "sex": "F"}] * 20}, "cohort", 20),
        ({"anything": list(range(2000))}, "anything", 2000),
    ],
)
def test_row_level_metadata_is_refused(registry, adapter_dir, extra, path, what):
    meta = metadata(**extra)
    with pytest.raises(RegistryError) as err:
        registry.add(adapter_dir(1, meta=meta), name="heart")
    assert str(err.value) == (
        f"{adapter_dir(1, meta=meta)}: metadata '{path}' is a list of {what} items, which "
        "looks like row-level data (the registry keeps only summaries: counts, rates, "
        "metrics); save the adapter without it"
    )
    assert registry.list() == [] and registry.objects.digests() == []


def test_summaries_and_training_curves_pass_the_row_level_check(registry, adapter_dir):
    meta = metadata(
        history={"train_loss": [1.0 / (i + 1) for i in range(150)]},
        labels=["normal", "pneumonia"],
    )
    assert registry.add(adapter_dir(1, meta=meta), name="heart").new


def test_a_damaged_source_adapter_is_refused_before_anything_is_stored(registry, adapter_dir):
    source = adapter_dir(1)
    _tamper(source / "adapter.safetensors")
    with pytest.raises(AdapterFileError, match="does not match its checksum"):
        registry.add(source, name="heart")
    assert registry.list() == [] and registry.objects.digests() == []


def test_gc_removes_orphans_and_leftovers_but_keeps_used_files(registry, adapter_dir):
    registry.add(adapter_dir(1), name="heart")
    orphan, _ = registry.objects.put_bytes(b"left by a killed add")
    (registry.objects.tmp / "123-abc.part").write_bytes(b"half a file")
    report = registry.verify()
    assert report.ok and report.orphans == [orphan] and report.leftovers == 1
    gc = registry.gc()  # young leftovers may belong to an add still running: kept
    assert (gc.objects, gc.bytes, gc.tmp) == (1, 20, 0)
    assert registry.gc(min_age_s=0).tmp == 1
    assert registry.verify().orphans == [] and registry.verify().ok


def test_concurrent_adds_get_distinct_versions(registry, adapter_dir):
    sources = [adapter_dir(seed) for seed in range(1, 9)]
    errors = []

    def add(batch):
        try:
            for source in batch:
                Registry(registry.root).add(source, name="heart")
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=add, args=(sources[i::2],)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert [v.version for v in registry.list("heart")] == list(range(1, 9))
    assert registry.verify().ok


def test_opening_a_missing_or_foreign_directory_is_refused(tmp_path):
    with pytest.raises(RegistryError) as err:
        Registry(tmp_path / "nope")
    assert str(err.value) == (  # a trial's Python caller was told of --root
        f"no registry at {tmp_path / 'nope'}; check the path, or create one with "
        f"Registry({str(tmp_path / 'nope')!r}, create=True)"
    )
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(RegistryError, match="exists and is not a registry"):
        Registry(tmp_path, create=True)
    with pytest.raises(RegistryError, match=r"is not a medadapt registry \(no registry.sqlite\)"):
        Registry(tmp_path)


def test_a_registry_reopens_with_the_same_identity(registry, adapter_dir):
    registry.add(adapter_dir(1), name="heart")
    again = Registry(registry.root)
    assert again.registry_id == registry.registry_id and len(again.registry_id) == 32
    assert [v.ref for v in again.list()] == ["heart@1"]


def test_a_blob_collected_between_write_and_commit_is_written_again(registry, adapter_dir):
    # gc deletes every blob no committed version uses; one that runs after add wrote its
    # blobs but before it took the write lock must not leave a version without files
    write, collected = registry.index.write, []

    @contextlib.contextmanager
    def gc_then_write():
        if not collected:
            collected.append(None)
            collected[0] = registry.gc(min_age_s=0)
        with write() as conn:
            yield conn

    registry.index.write = gc_then_write
    v = registry.add(adapter_dir(1), name="heart").version
    assert collected[0].objects == 2
    assert registry.verify().ok and registry.open_adapter(v.ref)


def test_a_registry_that_lost_its_index_is_not_created_again(registry, adapter_dir):
    registry.add(adapter_dir(1), name="heart")
    registry.index.path.unlink()
    for create in (False, True):
        with pytest.raises(RegistryError) as err:
            Registry(registry.root, create=create)
        assert str(err.value).startswith(f"registry {registry.root} has lost its index: ")
    assert not registry.index.path.exists()


def test_a_version_s_repr_names_it_not_its_every_field(registry, adapter_dir):
    """A notebook's ``reg.add(...)`` printed the version's card, metrics and every hash."""
    added = registry.add(adapter_dir(1), name="va")
    said = repr(added.version)
    assert said.startswith("AdapterVersion(va@1, lora, on ") and len(said) < 120, said
    assert "card" not in repr(added) and "AdapterVersion(va@1" in repr(added)
    registry.promote("va@1")
    assert repr(registry.get("va@1")).endswith(", promoted)")
