"""Export to PEFT: medadapt LoRA / DoRA adapters load in ``peft.PeftModel`` with equal outputs."""

from __future__ import annotations

import copy
import json

import pytest
import torch
from peft import PeftModel
from torch import nn
from transformers import BertConfig, BertForSequenceClassification

from medadapt.adapters import (
    AdapterModel,
    BottleneckConfig,
    DoraConfig,
    HeadConfig,
    IA3Config,
    LoraConfig,
    export_peft,
    load_peft_lora,
)
from medadapt.errors import AdapterFileError, AdapterStateError
from tests.adapters.models import randomize, tiny_images, tiny_vit

TOL = 1e-5
# PEFT's from_pretrained reads a deprecated transformers property on BERT; not ours to fix
pytestmark = pytest.mark.filterwarnings(
    "ignore:`is_gradient_checkpointing` is deprecated:FutureWarning"
)


def tiny_bert() -> BertForSequenceClassification:
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=50,
        hidden_size=16,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=16,
        num_labels=3,
        initializer_range=0.2,  # weights large enough that adapters move the logits clearly
    )
    return BertForSequenceClassification(config).eval()


def bert_inputs() -> dict[str, torch.Tensor]:
    ids = torch.randint(1, 50, (4, 7), generator=torch.Generator().manual_seed(1))
    mask = torch.ones_like(ids)
    mask[1, 5:] = 0
    return {"input_ids": ids, "attention_mask": mask}


def _exported(
    base: nn.Module, config, tmp_path, scale: float
) -> tuple[AdapterModel, PeftModel, object]:
    """medadapt adapter 'a' (random weights) on ``base``; PEFT loading its export (into a copy
    of the base: PEFT injects its layers in place)."""
    reference = copy.deepcopy(base)
    model = AdapterModel(base).eval()
    model.add_adapter("a", config)
    randomize(model, "a", seed=4, scale=scale)
    model.set_active("a")
    directory = export_peft(model, "a", tmp_path / "peft")
    return model, PeftModel.from_pretrained(reference, directory).eval(), directory


BERT_CONFIGS = {
    "lora_preset": LoraConfig(r=4, alpha=8, heads=("classifier",)),
    "lora_patterns_rslora": LoraConfig(
        r=4,
        alpha=8,
        targets=["query", "value", "intermediate.dense"],
        rank_pattern={"intermediate.dense": 2},
        alpha_pattern={r"layer\.1\.attention\.self\.value": 3.0},
        use_rslora=True,
    ),
    "dora_preset": DoraConfig(r=4, alpha=8, heads=("classifier",)),
    "dora_ffn": DoraConfig(r=2, targets=["intermediate.dense", "output.dense"]),
}


@pytest.mark.parametrize("variant", sorted(BERT_CONFIGS))
def test_export_to_peft_on_a_tiny_bert(tmp_path, variant):
    model, peft_model, directory = _exported(
        tiny_bert(), BERT_CONFIGS[variant], tmp_path, scale=0.5
    )
    inputs = bert_inputs()
    with torch.no_grad():
        ours = model(**inputs).logits
        theirs = peft_model(**inputs).logits
        with model.disabled():
            assert (ours - model(**inputs).logits).abs().max() > 1e-2  # the adapter matters
    assert (ours - theirs).abs().max().item() <= TOL
    saved = json.loads((directory / "adapter_config.json").read_text())
    assert saved["use_dora"] is variant.startswith("dora")
    assert saved["target_modules"] == model.layer_names["a"]


VIT_CONFIGS = {
    "lora_linear_conv_head": LoraConfig(
        r=3,
        alpha=6,
        targets=["attn.qkv", "mlp.fc1", "patch_embed.proj"],
        rank_pattern={"fc1": 2},
        alpha_pattern={"proj": 5.0},
        heads=("head",),
    ),
    "dora_preset_head": DoraConfig(r=4, alpha=8, heads=("head",)),
    "dora_rslora": DoraConfig(r=4, alpha=8, targets=["qkv", "fc2"], use_rslora=True),
}


@pytest.mark.parametrize("variant", sorted(VIT_CONFIGS))
def test_export_to_peft_on_a_tiny_timm_vit(tmp_path, variant):
    model, peft_model, directory = _exported(tiny_vit(), VIT_CONFIGS[variant], tmp_path, scale=0.2)
    x = tiny_images(5)
    with torch.no_grad():
        ours = model(x)
        assert (ours - tiny_vit()(x)).abs().max() > 1e-2  # the adapter matters
        assert (ours - peft_model(x)).abs().max().item() <= TOL
        back = AdapterModel(tiny_vit()).eval()  # and medadapt reads its export back as is
        load_peft_lora(back, directory, name="b")
        back.set_active("b")
        assert torch.equal(back(x), ours)


@pytest.mark.parametrize(
    ("config", "method"),
    [
        (BottleneckConfig(), "bottleneck"),
        (IA3Config(), "ia3"),
        (HeadConfig(heads=("head",)), "head"),
    ],
    ids=["bottleneck", "ia3", "head"],
)
def test_methods_without_a_peft_format_are_refused(tmp_path, config, method):
    model = AdapterModel(tiny_vit())
    model.add_adapter("a", config)
    with pytest.raises(AdapterStateError) as err:
        export_peft(model, "a", tmp_path / "peft")
    assert str(err.value) == (
        f"adapter 'a' is {method}; only lora and dora adapters can be exported to PEFT (PEFT "
        "has no bottleneck adapters; ia3 and head exports are not implemented)"
    )
    assert not (tmp_path / "peft").exists()


def test_a_head_with_new_classes_is_refused(tmp_path):
    model = AdapterModel(tiny_vit())
    model.add_adapter("a", LoraConfig(heads=("head",), head_out_features=5))
    with pytest.raises(AdapterStateError) as err:
        export_peft(model, "a", tmp_path / "peft")
    assert str(err.value) == (
        "adapter 'a' adds classes to its head (head_out_features=5); PEFT's modules_to_save "
        "keeps the base head's shape, so it cannot be exported"
    )


def test_lora_on_a_conv_peft_computes_otherwise_is_refused(tmp_path):
    torch.manual_seed(0)
    base = nn.Sequential(nn.Conv2d(3, 4, 3, padding=2, dilation=2), nn.Flatten())
    model = AdapterModel(base)
    model.add_adapter("a", LoraConfig(r=2, targets=["0"]))
    with pytest.raises(AdapterStateError) as err:
        export_peft(model, "a", tmp_path / "peft")
    assert str(err.value) == (
        "adapter 'a' has LoRA on 0, a Conv2d with dilation=(2, 2): PEFT's unmerged LoRA ignores "
        "the dilation (its merged weight does not), so PEFT would not reproduce it; export an "
        "adapter without that layer"
    )


def test_unknown_adapter_is_named(tmp_path):
    model = AdapterModel(tiny_vit())
    with pytest.raises(AdapterStateError, match="unknown adapter 'x'; this model has: none"):
        export_peft(model, "x", tmp_path / "peft")


def test_an_export_refuses_a_folder_in_use_unless_told(tmp_path):
    """A trial's export replaced an earlier PEFT export silently and wrote beside the user's
    notes, where save_adapter refuses both."""
    model = AdapterModel(tiny_vit())
    model.add_adapter("a", LoraConfig(r=2))
    export_peft(model, "a", tmp_path / "peft")
    with pytest.raises(AdapterFileError) as err:
        export_peft(model, "a", tmp_path / "peft")
    assert str(err.value) == (
        f"{str(tmp_path / 'peft')!r} already holds a PEFT adapter (adapter_config.json); choose "
        "a new directory, or pass overwrite=True to replace it"
    )
    assert export_peft(model, "a", tmp_path / "peft", overwrite=True) == tmp_path / "peft"
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "notes.txt").write_text("important")
    with pytest.raises(AdapterFileError, match="is not empty"):
        export_peft(model, "a", tmp_path / "busy")
    assert sorted(p.name for p in (tmp_path / "busy").iterdir()) == ["notes.txt"]
    model.save_adapter("a", tmp_path / "saved")
    with pytest.raises(AdapterFileError, match="holds a medadapt adapter"):
        export_peft(model, "a", tmp_path / "saved", overwrite=True)
