"""Tiny models for adapter tests."""

from __future__ import annotations

import copy

import torch
from timm.models.vision_transformer import VisionTransformer
from torch import nn

from medadapt.adapters import AdapterModel


def tiny_vit(seed: int = 0) -> VisionTransformer:
    """A 2-block timm ViT on 16x16 RGB inputs, 3 classes (random weights, eval mode)."""
    torch.manual_seed(seed)
    model = VisionTransformer(
        img_size=16, patch_size=4, embed_dim=32, depth=2, num_heads=2, num_classes=3
    )
    # random, non-trivial weights everywhere (timm zero-inits the head)
    with torch.no_grad():
        for param in model.parameters():
            param.add_(torch.randn_like(param) * 0.02)
    return model.eval()


def tiny_images(n: int = 5, seed: int = 1) -> torch.Tensor:
    """Shape: (n, 3, 16, 16)."""
    return torch.randn(n, 3, 16, 16, generator=torch.Generator().manual_seed(seed))


def adapted(seed: int = 0) -> tuple[AdapterModel, nn.Module]:
    """An AdapterModel on a tiny ViT, and an untouched copy of the same base."""
    base = tiny_vit(seed)
    reference = copy.deepcopy(base)
    return AdapterModel(base).eval(), reference


def randomize(model: AdapterModel, name: str, seed: int, scale: float = 0.2) -> None:
    """Give adapter ``name`` non-trivial weights (new adapters are identities)."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for param in model.adapter_parameters(name):
            param.add_(torch.randn(param.shape, generator=generator) * scale)
