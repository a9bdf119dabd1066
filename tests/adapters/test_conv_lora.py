"""LoRA on Conv2d layers that pad with border values or dilate: merged == unmerged == mixed."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from medadapt.adapters import AdapterModel, LoraConfig
from tests.adapters.models import randomize

CONVS = {
    "reflect": dict(kernel_size=3, padding=1, padding_mode="reflect"),
    "replicate": dict(kernel_size=3, padding=2, padding_mode="replicate"),
    "circular": dict(kernel_size=3, padding=1, padding_mode="circular"),
    "reflect_same_stride1": dict(kernel_size=5, padding="same", padding_mode="reflect"),
    "dilated": dict(kernel_size=3, padding=2, dilation=2),
    "dilated_strided_circular": dict(
        kernel_size=3, padding=2, dilation=2, stride=2, padding_mode="circular"
    ),
}


def conv_model(options: dict) -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(3, 4, **options), nn.ReLU(), nn.Conv2d(4, 2, 1)).eval()


@pytest.mark.parametrize("conv", sorted(CONVS))
def test_merged_unmerged_and_mixed_conv_lora_agree(conv):
    base = conv_model(CONVS[conv])
    x = torch.randn(4, 3, 9, 9, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        reference, plain_conv = base(x), base[0](x)
    model = AdapterModel(base).eval()
    for seed, name in enumerate("ab"):
        model.add_adapter(name, LoraConfig(r=2, targets=["0"]))
        randomize(model, name, seed=seed)
    with torch.no_grad():
        model.set_active("a")
        unmerged = model(x)
        mixed = model(x, adapter_ids=["a", "b", None, "a"])
        model.set_active("b")
        unmerged_b = model(x)
        model.set_active("a")
        model.merge_adapter("a")
        merged = model(x)
        model.unmerge()
    assert (unmerged - reference).abs().max() > 0.1  # the adapter matters
    torch.testing.assert_close(merged, unmerged, atol=1e-5, rtol=0)
    torch.testing.assert_close(mixed[[0, 3]], unmerged[[0, 3]], atol=1e-5, rtol=0)
    torch.testing.assert_close(mixed[1], unmerged_b[1], atol=1e-5, rtol=0)
    torch.testing.assert_close(mixed[2], reference[2], atol=1e-5, rtol=0)
    with torch.no_grad(), model.disabled():
        assert torch.equal(base[0](x), plain_conv)  # unmerge restored the base conv
