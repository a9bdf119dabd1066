"""Vision backbones: creation, architecture round trip, local weights and their mismatches."""

from __future__ import annotations

import json
import logging

import pytest
import torch
from safetensors.torch import save_file
from timm.layers import resample_abs_pos_embed

from medadapt.adapters import AdapterModel, BottleneckConfig
from medadapt.backbones import (
    MonaiViTClassifier,
    architecture_of,
    build_from_architecture,
    create_vision_backbone,
    load_backbone_weights,
)
from medadapt.errors import ConfigError, DataError

TIMM = "timm:vit_tiny_patch16_224"


def tiny(image_size: int = 32, in_chans: int = 1, num_classes: int = 2, **kw):
    kw.setdefault("depth", 2)
    return create_vision_backbone(
        TIMM, num_classes=num_classes, in_chans=in_chans, image_size=image_size, **kw
    ).eval()


def tiny_monai(image_size: int = 16, in_chans: int = 1, num_classes: int = 3, **kw):
    kw = {"hidden_size": 32, "mlp_dim": 64, "num_layers": 2, "num_heads": 2, **kw}
    return create_vision_backbone(
        "monai:vit", num_classes=num_classes, in_chans=in_chans, image_size=image_size, **kw
    ).eval()


def _same_except(a: torch.nn.Module, b: torch.nn.Module, skip: tuple[str, ...]) -> bool:
    sa, sb = a.state_dict(), b.state_dict()
    return all(torch.equal(sa[k], sb[k]) for k in sa if not k.startswith(skip))


def test_timm_vit_is_built_for_small_inputs_and_round_trips():
    model = tiny(image_size=28)
    assert model(torch.rand(2, 1, 28, 28)).shape == (2, 2)
    desc = architecture_of(model)
    assert desc == {
        "format": 1,
        "spec": TIMM,
        "num_classes": 2,
        "in_chans": 1,
        "image_size": 28,
        "kwargs": {"depth": 2, "patch_size": 7},  # 28 px: a 4 x 4 grid of 7 px patches
    }
    rebuilt = build_from_architecture(json.loads(json.dumps(desc)))
    assert architecture_of(rebuilt) == desc
    rebuilt.load_state_dict(model.state_dict())  # strict: same keys and shapes
    assert architecture_of(AdapterModel(rebuilt)) == desc
    assert "patch_size" not in architecture_of(tiny(image_size=64))["kwargs"]  # 16 fits 64


def test_spec_and_option_errors():
    with pytest.raises(ConfigError) as err:
        create_vision_backbone("torchvision:vit_b_16", num_classes=2, in_chans=3, image_size=32)
    assert str(err.value) == (
        "unknown backbone 'torchvision:vit_b_16' (--backbone): use timm:<model name> (e.g. "
        "timm:vit_small_patch16_224) or monai:vit"
    )
    tiny_kw = {"num_classes": 2, "in_chans": 3, "image_size": 32}
    for spec, meant in (("vit_tiny_patch16_224", "timm:vit_tiny_patch16_224"),  # a trial's
                        ("tim:vit_small_patch16_224", "timm:vit_small_patch16_224"),
                        ("ViT", "monai:vit")):  # fmt: skip
        with pytest.raises(ConfigError) as err:
            create_vision_backbone(spec, **tiny_kw)
        assert str(err.value).endswith(f"or monai:vit; did you mean '{meant}'?"), err.value
    with pytest.raises(ConfigError, match=r"^--backbone timm:resnet18 is not a VisionTransformer"):
        tiny_kw = {"num_classes": 2, "in_chans": 3, "image_size": 32}
        create_vision_backbone("timm:resnet18", **tiny_kw)
    with pytest.raises(ConfigError, match=r"timm has no model 'vit_tiny_patch16' \(did you"):
        create_vision_backbone("timm:vit_tiny_patch16", **tiny_kw)
    with pytest.raises(ConfigError) as err:
        tiny(pretrained=True)
    assert str(err.value) == (
        "pretrained= is not supported: no hub is reachable; pass weights=<local .pth, .pt or "
        ".safetensors file>"
    )
    with pytest.raises(ConfigError) as err:
        tiny(image_size=30, patch_size=8)
    assert str(err.value) == "patch_size 8 does not divide image_size 30: pick a divisor"
    with pytest.raises(ConfigError, match=r"^image_size 17 cannot be cut into at least 4 x 4"):
        tiny(image_size=17)
    with pytest.raises(ConfigError, match=r"^num_classes must be a positive integer"):
        tiny(num_classes=0)
    with pytest.raises(ConfigError, match=r"lacks image_size"):
        build_from_architecture({"spec": TIMM, "num_classes": 2, "in_chans": 1})
    with pytest.raises(ConfigError, match=r"was not built by create_vision_backbone"):
        architecture_of(torch.nn.Linear(2, 2))


def test_monai_vit_classifies_volumes_and_takes_monai_vit_adapters():
    model = tiny_monai()
    assert isinstance(model, MonaiViTClassifier)
    assert model(torch.rand(2, 1, 16, 16, 16)).shape == (2, 3)
    assert architecture_of(model)["kwargs"]["spatial_dims"] == 3
    adapted = AdapterModel(model)
    adapted.add_adapter("site", BottleneckConfig(placement="pfeiffer", layers=(1,)))
    assert adapted.family == "monai_vit" and adapted.layer_names["site"] == ["blocks.1.mlp"]
    flat = tiny_monai(image_size=32, spatial_dims=2)
    assert flat(torch.rand(2, 1, 32, 32)).shape == (2, 3)


@pytest.mark.parametrize("wrap", ["raw", "state_dict", "model", "module_prefix", "safetensors"])
def test_same_architecture_weights_reproduce_the_model(tmp_path, wrap):
    source = tiny()
    with torch.no_grad():
        for p in source.parameters():
            p.add_(torch.randn_like(p) * 0.02)
    state = source.state_dict()
    path = tmp_path / ("w.safetensors" if wrap == "safetensors" else "w.pth")
    if wrap == "safetensors":
        save_file(state, str(path))
    elif wrap == "module_prefix":
        torch.save({f"module.{k}": v for k, v in state.items()}, path)
    else:
        torch.save(state if wrap == "raw" else {wrap: state, "epoch": 3}, path)
    loaded = tiny(weights=str(path))
    x = torch.rand(3, 1, 32, 32)
    assert torch.equal(loaded(x), source(x))


def test_a_head_of_another_size_is_reinitialised_with_a_warning(tmp_path, caplog):
    source = tiny(num_classes=5)
    torch.save(source.state_dict(), tmp_path / "w.pt")
    target = tiny(num_classes=2)
    with caplog.at_level(logging.INFO, logger="medadapt.backbones"):
        notes = load_backbone_weights(target, tmp_path / "w.pt")
    assert notes == [
        "w.pt: the checkpoint head (5 classes) does not fit 2 classes; the head is "
        "re-initialised and must be trained"
    ]
    assert [r.levelname for r in caplog.records] == ["WARNING"]
    assert _same_except(source, target, skip=("head.",))


def test_position_embeddings_are_resampled_for_another_image_size(tmp_path):
    source = tiny(image_size=32, patch_size=8)  # 4 x 4 grid
    torch.save(source.state_dict(), tmp_path / "w.pth")
    target = tiny(image_size=64, patch_size=8)  # 8 x 8 grid
    notes = load_backbone_weights(target, tmp_path / "w.pth")
    assert notes == ["w.pth: position embedding resampled from a 4x4 to a 8x8 patch grid"]
    expected = resample_abs_pos_embed(source.pos_embed, new_size=[8, 8], num_prefix_tokens=1)
    assert torch.equal(target.pos_embed, expected)
    assert target(torch.rand(1, 1, 64, 64)).shape == (1, 2)


def test_patch_embedding_is_adapted_to_the_channel_count(tmp_path):
    rgb = tiny(in_chans=3)
    torch.save(rgb.state_dict(), tmp_path / "rgb.pth")
    gray = tiny(in_chans=1)
    assert load_backbone_weights(gray, tmp_path / "rgb.pth") == [
        "rgb.pth: patch embedding adapted from 3 to 1 input channels"
    ]
    summed = rgb.patch_embed.proj.weight.sum(dim=1, keepdim=True)
    assert torch.allclose(gray.patch_embed.proj.weight, summed)
    # a gray image through the gray model == the same image repeated through the RGB model
    x = torch.rand(2, 1, 32, 32)
    assert torch.allclose(gray(x), rgb(x.expand(-1, 3, -1, -1)), atol=1e-5)
    torch.save(gray.state_dict(), tmp_path / "gray.pth")
    back = tiny(in_chans=3, weights=tmp_path / "gray.pth")
    assert torch.allclose(back.patch_embed.proj.weight, summed.expand(-1, 3, -1, -1) / 3)


def test_patch_size_change_resamples_the_patch_embedding(tmp_path):
    torch.save(tiny(image_size=32, patch_size=8).state_dict(), tmp_path / "p8.pth")
    target = tiny(image_size=32, patch_size=4)
    notes = load_backbone_weights(target, tmp_path / "p8.pth")
    assert notes == [
        "p8.pth: patch embedding resampled from (8, 8) to (4, 4) patches",
        "p8.pth: position embedding resampled from a 4x4 to a 8x8 patch grid",
    ]


def test_other_mismatches_are_refused_naming_the_keys(tmp_path):
    torch.save(tiny(depth=3).state_dict(), tmp_path / "deep.pth")
    with pytest.raises(DataError) as err:
        tiny(depth=2, weights=tmp_path / "deep.pth")
    assert str(err.value) == (
        f"weights file deep.pth does not fit {TIMM}: unexpected blocks.2.norm1.weight, "
        "blocks.2.norm1.bias, blocks.2.attn.qkv.weight ...; build the backbone with the "
        "options the checkpoint was trained with (--backbone-options depth=..,embed_dim=..,"
        "patch_size=..; backbone_options= in Python), or give --weights a checkpoint of this "
        "backbone"
    )
    torch.save(tiny(embed_dim=96, num_heads=3).state_dict(), tmp_path / "narrow.pth")
    with pytest.raises(DataError, match=r"shape cls_token \(1, 1, 96\) vs \(1, 1, 192\), "):
        tiny(weights=tmp_path / "narrow.pth")
    # a trial gave a medadapt base's own weights as --weights
    from safetensors.torch import save_file

    (tmp_path / "base").mkdir()
    save_file(tiny(depth=3).state_dict(), tmp_path / "base" / "model.safetensors")
    (tmp_path / "base" / "model.json").write_text('{"kind": "image", "schema": {}}')
    with pytest.raises(DataError) as err:
        tiny(depth=2, weights=tmp_path / "base" / "model.safetensors")
    assert str(err.value) == (
        "weights file model.safetensors is a medadapt base model's (model.json beside it), not "
        f"a backbone checkpoint: pass its folder as --base to adapt it (adapt --base "
        f"{tmp_path / 'base'}), or give --weights a pretrained backbone's file"
    )


def test_unusable_weight_files(tmp_path):
    with pytest.raises(DataError) as err:
        tiny(weights=tmp_path / "none.pth")
    assert str(err.value) == (
        f"weights file {tmp_path}/none.pth does not exist: pass a local .pth, .pt or "
        ".safetensors file"
    )
    torch.save(torch.nn.Linear(2, 2), tmp_path / "module.pth")  # a pickled module
    with pytest.raises(DataError) as err:
        tiny(weights=tmp_path / "module.pth")
    assert str(err.value) == (
        f"{tmp_path}/module.pth holds Python objects besides tensors, which medadapt does not "
        "unpickle: re-save it with torch.save(model.state_dict(), path) or as .safetensors"
    )
    (tmp_path / "cut.safetensors").write_bytes(b"\x10\x00\x00")
    with pytest.raises(DataError, match=r"^cannot read .*cut.safetensors as safetensors"):
        tiny(weights=tmp_path / "cut.safetensors")
    (tmp_path / "w.h5").write_bytes(b"")
    with pytest.raises(DataError, match=r"has an unknown suffix '.h5'"):
        tiny(weights=tmp_path / "w.h5")
    torch.save({"epoch": 3, "lr": torch.tensor(0.1)}, tmp_path / "meta.pth")
    with pytest.raises(DataError) as err:
        tiny(weights=tmp_path / "meta.pth")
    assert str(err.value) == (
        f"{tmp_path}/meta.pth: entry 'epoch' is not a tensor; save only model.state_dict() in "
        "the file"
    )


def test_monai_weights_resample_3d_positions_adapt_channels_and_take_encoders(tmp_path):
    from monai.networks.nets import ViT

    encoder = ViT(  # a MONAI encoder checkpoint: no cls_token, no head, 3 channels, 32^3
        in_channels=3,
        img_size=32,
        patch_size=8,
        hidden_size=32,
        mlp_dim=64,
        num_layers=2,
        num_heads=2,
    )
    torch.save(encoder.state_dict(), tmp_path / "enc.pt")
    model = tiny_monai(image_size=16, in_chans=1, patch_size=8)
    notes = load_backbone_weights(model, tmp_path / "enc.pt")
    assert notes == [
        "enc.pt: patch embedding adapted from 3 to 1 input channels",
        "enc.pt: position embedding resampled from a 4^3 to a 2^3 patch grid",
        "enc.pt: the checkpoint head (no head) does not fit 3 classes; the head is "
        "re-initialised and must be trained",
        "enc.pt: no cls_token in the checkpoint; it starts at zero",
    ]
    assert torch.equal(model.blocks[1].mlp.linear2.weight, encoder.blocks[1].mlp.linear2.weight)
    assert model(torch.rand(1, 1, 16, 16, 16)).shape == (1, 3)
    save_file(model.state_dict(), str(tmp_path / "m.safetensors"))
    again = tiny_monai(image_size=16, patch_size=8, weights=tmp_path / "m.safetensors")
    x = torch.rand(2, 1, 16, 16, 16)
    assert torch.equal(again(x), model(x))


def _without_normalize(model: torch.nn.Module) -> torch.nn.Module:
    """The same weights built from the record without ``normalize`` (as saved before it)."""
    desc = {k: v for k, v in architecture_of(model).items() if k != "normalize"}
    legacy = build_from_architecture({**desc, "format": 1})
    legacy.load_state_dict(model.state_dict())  # strict: no extra keys either way
    return legacy.eval()


def test_pretrained_normalisation_is_recorded_and_applied_inside_the_model(tmp_path):
    from medadapt.adapters.fingerprint import fingerprint_model
    from medadapt.features.cached import precompute_tokens, split_vision_model

    plain = tiny()
    save_file(plain.state_dict(), str(tmp_path / "w.safetensors"))
    model = tiny(weights=str(tmp_path / "w.safetensors"), normalize="auto")
    desc = architecture_of(model)
    assert desc["normalize"] == {"mean": [0.5], "std": [0.5]}  # timm pretrained_cfg, gray
    assert desc["format"] == 2 and architecture_of(plain)["format"] == 1
    x = torch.rand(3, 1, 32, 32)
    assert torch.allclose(model(x), plain((x - 0.5) / 0.5), atol=1e-5)
    prefix, suffix = split_vision_model(model, 1)  # the feature cache is normalised too
    assert torch.allclose(suffix(precompute_tokens(prefix, x)), model(x), atol=1e-5)
    rebuilt = build_from_architecture(json.loads(json.dumps(desc)))
    rebuilt.load_state_dict(model.state_dict())
    assert torch.allclose(rebuilt.eval()(x), model(x), atol=1e-6)
    assert torch.allclose(_without_normalize(model)(x), plain(x), atol=1e-6)  # old records
    assert fingerprint_model(model) == fingerprint_model(plain)  # weights file unchanged
    assert "normalize" not in architecture_of(tiny(weights=str(tmp_path / "w.safetensors")))
    imagenet = architecture_of(tiny(in_chans=3, normalize="imagenet"))["normalize"]
    assert imagenet == {"mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225]}
    assert architecture_of(tiny(normalize="0.2,0.1"))["normalize"] == {"mean": [0.2], "std": [0.1]}
    with pytest.raises(ConfigError, match="--normalize must be auto, none, imagenet or MEAN,STD"):
        tiny(normalize="bright")
    monai = tiny_monai(normalize="0.5,0.25")
    volume = torch.rand(2, 1, 16, 16, 16)
    expected = _without_normalize(monai)((volume - 0.5) / 0.25)
    assert torch.allclose(monai(volume), expected, atol=1e-5)
