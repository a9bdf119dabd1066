"""Base models in the registry: registered with their adapters, verified, exported, imported."""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import tarfile

import pytest

from medadapt.adapters import AdapterModel
from medadapt.errors import AdapterFileError
from medadapt.fileio import record_sha256
from medadapt.modalities.bundle import BaseModel
from medadapt.registry import Registry, RegistryError
from medadapt.registry.bases import add_base, find_base
from tests.registry.helpers import make_adapter_on_base, make_base


@pytest.fixture
def on_base(tmp_path):
    """``on_base(seed, base_seed)``: an adapter recording the path of its (tiny tabular)
    base, as an 'adapt' output does; returns ``(adapter_dir, base_dir)``."""

    def make(seed: int = 1, base_seed: int = 0):
        base = tmp_path / f"base-{base_seed}"
        if not base.is_dir():
            make_base(base, seed=base_seed)
        return make_adapter_on_base(tmp_path / f"adapter-{seed}-{base_seed}", base, seed=seed), base

    return make


def _weights(base_dir) -> str:
    return json.loads((base_dir / "model.json").read_text())["fingerprint"]["weights"]


def test_add_keeps_the_recorded_base_and_records_no_local_path(registry, on_base):
    adapter, base = on_base()
    result = registry.add(adapter, name="heart")
    assert result.notices == (f"also registered its base model from {base.resolve()}",)
    assert find_base(registry.root, _weights(base)).name == _weights(base)[:16]
    v = result.version
    stored = registry.objects.path(v.manifest_blob).read_text()
    assert str(base.resolve()) not in stored and str(base.resolve()) not in v.card
    assert json.loads(stored)["metadata"]["base_model"] == {"training_groups": None}
    # the stored manifest carries its own valid checksum: it loads onto its base
    model = AdapterModel(BaseModel.load(find_base(registry.root, _weights(base))).model)
    model.load_adapter(registry.open_adapter(v.ref, base=model.fingerprint), name="heart")
    again = registry.add(adapter, name="heart")  # the same source is recognised
    assert (again.version.ref, again.new, again.notices) == ("heart@1", False, ())


def test_a_base_that_went_missing_is_registered_by_the_retry(registry, on_base):
    adapter, base = on_base()
    registry.add(adapter, name="heart")
    shutil.rmtree(find_base(registry.root, _weights(base)))  # as a kill after the commit left it
    again = registry.add(adapter, name="heart")
    assert not again.new
    assert again.notices == (  # registered before: its copy put back, as add-base says
        f"also repaired its base model's stored copy from {base.resolve()} (the base model "
        "files were missing)",
    )
    assert registry.verify().ok and registry.verify().bases == [_weights(base)[:16]]


def test_an_adapter_without_a_recorded_base_gets_a_note(registry, adapter_dir):
    result = registry.add(adapter_dir(1), name="heart")
    weights = result.version.base_fingerprint["weights"]
    assert result.notices == (
        f"note: heart@1 cannot be served yet: the registry at {registry.root} has no base model "
        f"with weights {weights[:12]}; add it with 'medadapt registry --root {registry.root} "
        "add-base BASE_DIR' (or import the adapter's archive exported with --with-base)",
    )


@pytest.mark.parametrize("how", ["Registry.add_base", "bases.add_base"])
def test_a_base_added_through_the_python_api_is_reported_by_verify_when_deleted(
    registry, tmp_path, how
):
    """The adapter is added first (its recorded base moved away), its base afterwards: only
    the add-base call can record that the base was registered. The CLI recorded it; Python
    calls did not, and ``verify`` said nothing of the deleted base."""
    base = make_base(tmp_path / "base")
    adapter = make_adapter_on_base(tmp_path / "adapter", base)
    moved = base.rename(tmp_path / "moved-base")
    assert registry.add(adapter, name="heart").notices[-1].startswith("note: heart@1 cannot")
    if how == "Registry.add_base":
        path, new, repaired = registry.add_base(moved)
    else:
        path, new, repaired = add_base(registry.root, moved)
    assert new and not repaired and path == find_base(registry.root, _weights(moved))
    assert registry.verify().ok
    shutil.rmtree(path)
    report = registry.verify()
    assert not report.ok
    assert report.base_problems == [
        f"base model {path.name}: {path} is missing, but heart@1 was registered with it; add it "
        f"again with 'medadapt registry --root {registry.root} add-base BASE_DIR', or restore "
        "bases/ from a backup"
    ]
    assert registry.add_base(moved) == (  # the fix the line gives
        path,
        False,
        ("the base model files were missing",),
    )
    assert registry.add_base(moved) == (path, False, ())  # intact now: nothing repaired
    assert registry.verify().ok


def test_add_base_refuses_a_directory_that_is_no_registry(tmp_path):
    base = make_base(tmp_path / "base")
    with pytest.raises(RegistryError, match=r"is not a medadapt registry \(no registry.sqlite\)"):
        add_base(tmp_path / "elsewhere", base)
    assert not (tmp_path / "elsewhere").exists()


def _tamper(path) -> None:
    os.chmod(path, 0o644)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


@pytest.mark.parametrize(
    "edit",
    [("test_metrics", "auroc", 0.6), ("groups", "nortH", 141), ("allowed_leaks", 0, "x")],
    ids=["a test result", "a group's name", "a leak kept"],
)
def test_verify_reports_a_base_whose_recorded_training_was_edited(registry, on_base, edit):
    """A trial edited a registered base's recorded test AUROC (1.0 -> 0.6), its leak's
    statistic and a group's name: verify said "ok", and 'bases' printed the new name."""
    adapter, base = on_base()
    recorded = json.loads((base / "model.json").read_text())
    recorded["training"] = {"groups": {"north": 141}, "test_metrics": {"auroc": 1.0},
                            "allowed_leaks": [{"column": "bp", "value": 0.98}]}  # fmt: skip
    model = BaseModel.load(base)
    BaseModel(model=model.model, kind=model.kind, architecture=model.architecture,
              schema=model.schema, training=recorded["training"]).save(
        base, overwrite=True)  # fmt: skip
    registry.add(adapter, name="heart")
    registered = find_base(registry.root, _weights(base))
    assert registry.verify().ok
    manifest = json.loads((registered / "model.json").read_text())
    part, key, value = edit
    if part == "groups":
        manifest["training"]["groups"] = {key: value}
    elif part == "allowed_leaks":
        manifest["training"]["allowed_leaks"][key]["value"] = 0.08
    else:
        manifest["training"][part][key] = value
    os.chmod(registered / "model.json", 0o644)
    (registered / "model.json").write_text(json.dumps(manifest, indent=2))
    said = (
        f"base model folder {str(registered)!r}: model.json was edited after the model was "
        "saved (what it records of the model's training, its results and notes no longer match "
        "the checksum saved with them, and figures read from it could be wrong); copy the base "
        "model again, or retrain it"
    )
    assert registry.verify().base_problems == [
        f"base model {registered.name}: {registered / 'model.json'} was edited after the model "
        "was saved (what it records of the model's training, its results and notes no longer "
        "match the checksum saved with them, and figures read from it could be wrong); add it "
        f"again with 'medadapt registry --root {registry.root} add-base BASE_DIR' (that "
        "replaces the damaged copy)"
    ]
    with pytest.raises(AdapterFileError) as error:
        BaseModel.load(registered)
    assert str(error.value) == said


def test_verify_reports_tampered_swapped_and_forged_bases(registry, on_base, tmp_path):
    adapter, base = on_base()
    registry.add(adapter, name="heart")
    other = make_base(tmp_path / "other-base", seed=9)
    registered = find_base(registry.root, _weights(base))
    key = registered.name
    assert registry.verify().ok
    fix = (
        f"add it again with 'medadapt registry --root {registry.root} add-base BASE_DIR' (that "
        "replaces the damaged copy)"
    )

    _tamper(registered / "model.safetensors")
    assert registry.verify().base_problems == [
        f"base model {key}: {registered / 'model.safetensors'} does not match its checksum "
        f"(tampered or corrupted); {fix}"
    ]
    assert not registry.verify().ok and registry.verify("heart@1").base_problems
    assert add_base(registry.root, base) == (  # add-base repairs it
        registered,
        False,
        ("the base model files were damaged",),
    )
    assert registry.verify().ok

    for name in ("model.json", "model.safetensors"):  # another base under this key
        os.chmod(registered / name, 0o644)
        shutil.copyfile(other / name, registered / name)
    assert registry.verify().base_problems == [
        f"base model {key}: {registered / 'model.json'} describes base weights "
        f"{_weights(other)[:12]}, not the {key[:12]} its directory is named after (swapped or "
        f"moved); {fix}"
    ]
    add_base(registry.root, base)

    # other weights with model.json's checksum rewritten to match them
    shutil.copyfile(other / "model.safetensors", registered / "model.safetensors")
    manifest = json.loads((registered / "model.json").read_text())
    manifest["weights_sha256"] = hashlib.sha256(
        (other / "model.safetensors").read_bytes()
    ).hexdigest()
    manifest["record_sha256"] = record_sha256(manifest)  # a forger who rewrites that one too
    (registered / "model.json").write_text(json.dumps(manifest))
    assert registry.verify().base_problems == [
        f"base model {key}: {registered / 'model.safetensors'} hashes to base weights "
        f"{_weights(other)[:12]}, but {registered / 'model.json'} says {key[:12]} (tampered); "
        f"{fix}"
    ]
    add_base(registry.root, base)

    # model.json edited (its schema no longer matches its description checksum): the
    # loader's refusal is quoted whole, without its own fix beside the registry's
    manifest = json.loads((registered / "model.json").read_text())
    manifest["schema"]["label"] = "edited"
    os.chmod(registered / "model.json", 0o644)
    (registered / "model.json").write_text(json.dumps(manifest))
    [problem] = registry.verify().base_problems
    assert problem == (
        f"base model {key}: {registered / 'model.json'} was edited after the model was saved "
        "(its kind, architecture or schema no longer match the checksum saved with them, and "
        f"the weights would be read wrongly); {fix}"
    )


def test_export_with_base_carries_it_and_import_registers_it(registry, on_base, tmp_path):
    adapter, base = on_base()
    registry.add(adapter, name="heart")
    exported = registry.export("heart@1", tmp_path / "out.tar.gz", with_base=True)
    with tarfile.open(exported.path) as tar:
        names = sorted(tar.getnames())
        info = json.loads(tar.extractfile("medadapt-export.json").read())
        packed = tar.extractfile("adapter/adapter.json").read().decode()
    assert "base/model.json" in names and "base/model.safetensors" in names
    assert info["format_version"] == 2 and info["base"] == {"weights": _weights(base)}
    assert str(base.resolve()) not in packed
    other = Registry(tmp_path / "other", create=True)
    result = other.import_(exported.path)
    assert result.notices == (f"also registered its base model from {exported.path}",)
    served = BaseModel.load(find_base(other.root, _weights(base)))
    model = AdapterModel(served.model)
    model.load_adapter(other.open_adapter("heart@1", base=model.fingerprint), name="heart")
    assert other.verify().ok and len(other.verify().bases) == 1
    # without --with-base: format 1 (older medadapt reads it), and the importer is told
    plain = registry.export("heart@1", tmp_path / "plain.tar.gz")
    with tarfile.open(plain.path) as tar:
        assert json.loads(tar.extractfile("medadapt-export.json").read())["format_version"] == 1
    third = Registry(tmp_path / "third", create=True)
    assert (
        third.import_(plain.path)
        .notices[0]
        .startswith(
            f"note: heart@1 cannot be served yet: the registry at {third.root} has no base model"
        )
    )


def test_export_with_a_missing_base_is_refused(registry, adapter_dir, tmp_path):
    v = registry.add(adapter_dir(1), name="heart").version
    with pytest.raises(AdapterFileError) as err:
        registry.export("heart@1", tmp_path, with_base=True)
    assert str(err.value) == (
        f"cannot export heart@1 with its base model: the registry at {registry.root} has no "
        f"base model with weights {v.base_fingerprint['weights'][:12]}; add it with 'medadapt "
        f"registry --root {registry.root} add-base BASE_DIR', or export it without --with-base"
    )
    assert not list(tmp_path.glob("*.tar.gz"))


def _repack(path, members: dict[str, bytes], drop=()) -> None:
    sums = "".join(
        f"{hashlib.sha256(data).hexdigest()}  {name}\n"
        for name, data in members.items()
        if name != "SHA256SUMS" and name not in drop
    )
    members = {**members, "SHA256SUMS": sums.encode()}
    with tarfile.open(path, "w:gz") as tar:
        for name, data in members.items():
            if name in drop:
                continue
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


def test_an_archive_with_another_or_half_a_base_is_refused(registry, on_base, tmp_path):
    adapter, _ = on_base()
    registry.add(adapter, name="heart")
    exported = registry.export("heart@1", tmp_path / "x.tar.gz", with_base=True)
    with tarfile.open(exported.path) as tar:
        members = {m.name: tar.extractfile(m).read() for m in tar}
    other_base = make_base(tmp_path / "other-base", seed=9)
    swapped = {
        **members,
        "base/model.json": (other_base / "model.json").read_bytes(),
        "base/model.safetensors": (other_base / "model.safetensors").read_bytes(),
    }
    other = Registry(tmp_path / "other", create=True)
    _repack(exported.path, swapped)
    with pytest.raises(AdapterFileError) as err:
        other.import_(exported.path)
    assert str(err.value) == (
        f"{exported.path} is inconsistent (its base model is not the one its adapter was "
        "trained on); ask the sender to export it again"
    )
    _repack(exported.path, members, drop=("base/model.safetensors",))
    with pytest.raises(AdapterFileError) as err:
        other.import_(exported.path)
    assert str(err.value) == (
        f"{exported.path} is incomplete or corrupted (no base/model.safetensors); ask the "
        "sender to export it again"
    )
    assert other.list() == [] and not (other.root / "bases").exists()


def test_a_base_copied_in_is_an_add_base_event_a_server_sees(registry, on_base):
    """'add-base' (the fix for a damaged base) changed no generation: a running server never
    loaded the new copy. Added or replaced, a copy is now an event that bumps it; an intact
    copy added again changes nothing."""
    _, base = on_base()
    key = _weights(base)[:16]
    before = registry.generation()
    registry.add_base(base)
    registry.add_base(base)  # already there, intact: nothing to see
    (registry.root / "bases" / key / "model.safetensors").write_bytes(b"damaged")
    registry.add_base(base)  # replaced
    shutil.rmtree(registry.root / "bases" / key)
    registry.add_base(base)  # put back: it was registered
    assert registry.generation() == before + 3
    assert [(e.action, e.name, e.version, e.detail) for e in registry.history()] == [
        ("add-base", f"base:{key}", None, {"copy": "restored"}),
        ("add-base", f"base:{key}", None, {"copy": "replaced"}),
        ("add-base", f"base:{key}", None, {"copy": "added"}),
    ]


def test_a_version_exported_again_with_its_base_is_the_same_file(registry, on_base, tmp_path):
    """The recipient checks the SHA-256 the sender gave by another channel: an archive sent
    again (lost, or to a second site) must have it too."""
    adapter, _ = on_base()
    registry.add(adapter, name="heart")
    first = registry.export("heart@1", tmp_path / "a.tar.gz", with_base=True)
    second = registry.export("heart@1", tmp_path / "b.tar.gz", with_base=True)
    assert first.path.read_bytes() == second.path.read_bytes()
    other = Registry(tmp_path / "other", create=True)
    assert other.import_(second.path, expect_sha256=first.sha256).new


def test_an_adapter_imported_again_with_its_base_says_which_was_added(
    registry, on_base, tmp_path, capsys
):
    """A trial's second import, of the archive with its base, said "already imported as
    south@1; nothing added" and then "also registered its base model"."""
    from medadapt.cli.main import main

    adapter, _ = on_base()
    registry.add(adapter, name="south")
    plain = registry.export("south@1", tmp_path / "plain.tar.gz")
    full = registry.export("south@1", tmp_path / "full.tar.gz", with_base=True)
    root = tmp_path / "elsewhere"
    for archive in (plain.path, full.path):
        try:
            main(["registry", "--root", str(root), "import", str(archive)])
        except SystemExit as exit_:
            assert exit_.code == 0
    out = capsys.readouterr().out.splitlines()
    assert out[-2:] == [
        "already imported as south@1; the adapter is not added again",
        f"also registered its base model from {full.path}",
    ]
