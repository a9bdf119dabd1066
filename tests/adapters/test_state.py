"""Adapter files: integrity checks and the binding to one base model."""

from __future__ import annotations

import json
import os
import stat

import pytest
import torch

from medadapt.adapters import (
    AdapterModel,
    BottleneckConfig,
    LoraConfig,
    fingerprint_model,
    read_manifest,
)
from medadapt.errors import AdapterFileError
from tests.adapters.models import adapted, randomize, tiny_vit


@pytest.fixture
def saved(tmp_path):
    model, reference = adapted()
    model.add_adapter("site_a", LoraConfig(r=2, heads=("head",)))
    randomize(model, "site_a", seed=1)
    directory = model.save_adapter("site_a", tmp_path / "site_a")
    return directory, reference


def test_the_saved_files_are_safetensors_and_json_only(saved):
    directory, _ = saved
    assert sorted(p.name for p in directory.iterdir()) == ["adapter.json", "adapter.safetensors"]
    manifest = read_manifest(directory)
    assert manifest["layers"] == ["blocks.0.attn.qkv", "blocks.1.attn.qkv"]
    assert manifest["config"]["heads"] == ["head"]


def test_truncated_weights_are_refused(saved):
    directory, reference = saved
    weights = directory / "adapter.safetensors"
    data = weights.read_bytes()
    weights.write_bytes(data[: len(data) // 2])
    with pytest.raises(AdapterFileError) as err:
        AdapterModel(reference).load_adapter(directory)
    assert str(err.value) == (
        f"{weights} is truncated or altered: {len(data) // 2} bytes, the manifest says "
        f"{len(data)}; copy the adapter again"
    )


def test_tampered_weights_are_refused(saved):
    directory, reference = saved
    weights = directory / "adapter.safetensors"
    data = bytearray(weights.read_bytes())
    data[-3] ^= 0xFF
    weights.write_bytes(bytes(data))
    with pytest.raises(AdapterFileError) as err:
        AdapterModel(reference).load_adapter(directory)
    assert str(err.value) == (
        f"{weights} does not match its checksum (tampered or corrupted); copy the adapter "
        "again from its source"
    )


def test_an_edited_manifest_is_refused(saved):
    directory, reference = saved
    path = directory / "adapter.json"
    manifest = json.loads(path.read_text())
    manifest["config"]["alpha"] = 1000.0
    path.write_text(json.dumps(manifest))
    with pytest.raises(AdapterFileError, match="was modified after it was saved"):
        AdapterModel(reference).load_adapter(directory)


def test_a_truncated_manifest_is_refused(saved):
    directory, reference = saved
    path = directory / "adapter.json"
    path.write_text(path.read_text()[:40])
    with pytest.raises(AdapterFileError, match=r"is not valid JSON \(truncated or edited\)"):
        AdapterModel(reference).load_adapter(directory)


def test_a_missing_directory_names_the_fix(tmp_path):
    with pytest.raises(AdapterFileError) as err:
        AdapterModel(tiny_vit()).load_adapter(tmp_path / "nope")
    assert "point at a directory written by 'medadapt adapt'" in str(err.value)


def test_an_adapter_for_other_base_weights_is_refused(saved):
    directory, _ = saved
    other = AdapterModel(tiny_vit(seed=7))
    with pytest.raises(AdapterFileError) as err:
        other.load_adapter(directory)
    recorded = read_manifest(directory)["base_fingerprint"]["weights"][:12]
    actual = other.fingerprint.weights[:12]
    assert str(err.value) == (
        f"adapter 'site_a' was trained on base weights {recorded}, but the loaded base has "
        f"{actual}; load the base model it was trained on"
    )
    assert other.adapter_names == []


def test_an_adapter_for_another_architecture_is_refused(saved):
    directory, _ = saved
    from timm.models.vision_transformer import VisionTransformer

    bigger = VisionTransformer(img_size=16, patch_size=4, embed_dim=32, depth=3, num_heads=2)
    with pytest.raises(AdapterFileError, match="was trained on a different model architecture"):
        AdapterModel(bigger).load_adapter(directory)


def test_fingerprint_ignores_adapters_but_not_base_weights():
    model, _ = adapted()
    before = model.fingerprint
    model.add_adapter("a", BottleneckConfig())
    randomize(model, "a", seed=0)
    assert model.fingerprint == before
    with torch.no_grad():
        model.base_model.blocks[0].norm1.weight.add_(1.0)
    assert model.fingerprint.weights != before.weights
    assert model.fingerprint.architecture == before.architecture


def test_save_leaves_no_temporary_files(saved):
    directory, _ = saved
    assert not [p for p in directory.iterdir() if p.name.startswith(".")]


def test_saving_an_adapter_the_model_lacks_makes_no_folder(tmp_path):
    """A trial's ``save_adapter("nope", "out_nope")`` was refused, and left ``out_nope/``."""
    from medadapt.errors import AdapterStateError

    model, _ = adapted()
    with pytest.raises(AdapterStateError, match="unknown adapter 'nope'"):
        model.save_adapter("nope", tmp_path / "out" / "nope")
    assert not (tmp_path / "out").exists()


def test_a_manifest_with_a_valid_checksum_but_wrong_field_types_is_one_error(saved):
    from medadapt.adapters.state import _manifest_digest

    directory, reference = saved
    path = directory / "adapter.json"
    manifest = json.loads(path.read_text())
    manifest["format_version"] = "x"  # written by another tool, checksum recomputed
    manifest["manifest_sha256"] = _manifest_digest(manifest)
    path.write_text(json.dumps(manifest))
    with pytest.raises(AdapterFileError) as err:
        AdapterModel(reference).load_adapter(directory)
    assert str(err.value) == (
        f"{path} has no valid 'format_version' (expected int, got str); re-export the adapter "
        "with medadapt"
    )


def test_the_saved_fingerprint_sees_edits_through_param_data(tmp_path):
    model, reference = adapted()
    before = model.fingerprint
    model.add_adapter("a", LoraConfig(r=2))
    model.base_model.blocks[0].norm1.weight.data.add_(1.0)  # bumps no version counter
    model.save_adapter("a", tmp_path / "a")
    recorded = read_manifest(tmp_path / "a")["base_fingerprint"]
    assert recorded == fingerprint_model(model.base_model).to_dict()
    assert recorded["weights"] != before.weights
    unedited = AdapterModel(reference)
    with pytest.raises(AdapterFileError) as err:
        unedited.load_adapter(tmp_path / "a")
    assert str(err.value) == (
        f"adapter 'a' was trained on base weights {recorded['weights'][:12]}, but the loaded "
        f"base has {before.weights[:12]}; load the base model it was trained on"
    )


def test_loading_sees_edits_through_param_data(tmp_path):
    model, reference = adapted()
    model.add_adapter("a", LoraConfig(r=2))
    model.save_adapter("a", tmp_path / "a")
    other = AdapterModel(reference)
    other.fingerprint  # noqa: B018 - cached before the edit
    reference.blocks[0].norm1.weight.data.add_(1.0)
    with pytest.raises(AdapterFileError, match="was trained on base weights"):
        other.load_adapter(tmp_path / "a")


@pytest.mark.parametrize(
    ("umask", "mode"),
    [(0o022, 0o644), (0o077, 0o600), (0o027, 0o640)],
    ids=["umask022", "umask077", "umask027"],
)
def test_both_adapter_files_get_the_mode_of_the_umask(tmp_path, umask, mode):
    model, _ = adapted()
    model.add_adapter("a", LoraConfig(r=2))
    previous = os.umask(umask)
    try:
        directory = model.save_adapter("a", tmp_path / "a")
    finally:
        os.umask(previous)
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in directory.iterdir()}
    assert modes == {"adapter.json": mode, "adapter.safetensors": mode}


def test_an_adapter_loaded_onto_a_cast_base_says_why(saved):
    directory, reference = saved
    with pytest.raises(AdapterFileError) as err:
        AdapterModel(reference.to(torch.bfloat16)).load_adapter(directory)
    assert "same size, other parameter names or dtypes" in str(err.value)
    assert "cast the AdapterModel after loading" in str(err.value)


def test_a_peft_directory_given_to_load_adapter_names_load_peft_lora(tmp_path):
    (tmp_path / "adapter_config.json").write_text("{}")
    model, _ = adapted()
    with pytest.raises(AdapterFileError) as err:
        model.load_adapter(tmp_path)
    assert "holds a Hugging Face PEFT adapter" in str(err.value)
    assert "medadapt.adapters.load_peft_lora(model, directory, name=...)" in str(err.value)


@pytest.mark.parametrize("where", ["notes.txt", "notes.txt/adapter"])
def test_saving_onto_a_file_names_the_file(tmp_path, where):
    from medadapt.adapters import export_peft

    (tmp_path / "notes.txt").write_text("kept")
    model, _ = adapted()
    model.add_adapter("a", LoraConfig(r=2))
    saves = {"the adapter": lambda: model.save_adapter("a", tmp_path / where),
             "the PEFT adapter": lambda: export_peft(model, "a", tmp_path / where)}  # fmt: skip
    for what, save in saves.items():
        with pytest.raises(AdapterFileError) as err:
            save()
        file = tmp_path / "notes.txt"
        assert str(err.value) == (
            f"cannot write {what} to {tmp_path / where}: {file} is a file; name a directory"
        )
    assert (tmp_path / "notes.txt").read_text() == "kept"


def test_a_loaded_image_adapter_keeps_its_split_file_and_a_foreign_base_keeps_no_record(
    tmp_path,
):
    """An image adapter's split names its file under ``keys_file`` (a table's under
    ``positions_file``): loaded and saved again, it is kept as a table's is. Loaded onto
    another base (``check_base_model=False``), its recorded figures are not that model's:
    none is kept."""
    import hashlib
    import json

    from medadapt.adapters import AdapterModel, LoraConfig
    from medadapt.adapters.state import load_adapter
    from tests.adapters.models import adapted

    model, reference = adapted()
    model.add_adapter("c", LoraConfig(r=2, heads=("head",)))
    raw = json.dumps({"source_sha256": "d", "train_keys": ["k1"], "test_keys": ["k2"]}).encode()
    split = {
        "n_train": 1,
        "keys_file": "split.json",
        "keys_sha256": hashlib.sha256(raw).hexdigest(),
    }
    model.adapter_files["c"] = {"split.json": raw}
    model.save_adapter("c", tmp_path / "img", metadata={"split": split, "metrics": {"auroc": 0.8}})
    again = AdapterModel(reference)
    load_adapter(again, tmp_path / "img")
    again.save_adapter("c", tmp_path / "copy")
    assert (tmp_path / "copy" / "split.json").read_bytes() == raw
    assert (
        json.loads((tmp_path / "copy" / "adapter.json").read_text())["metadata"]["split"] == split
    )

    _, other = adapted()
    with torch.no_grad():
        for param in other.parameters():
            param.add_(0.5)  # another base: other weights
    foreign = AdapterModel(other)
    load_adapter(foreign, tmp_path / "img", check_base_model=False)
    foreign.save_adapter("c", tmp_path / "foreign")
    assert json.loads((tmp_path / "foreign" / "adapter.json").read_text())["metadata"] == {}
    assert not (tmp_path / "foreign" / "split.json").exists()
