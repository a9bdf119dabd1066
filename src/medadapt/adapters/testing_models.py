"""The two tiny models the conformance suite (:mod:`medadapt.adapters.testing`) runs every
method on: an MLP with a base module named like adapter weights, and a Transformer named like
a timm ViT (so the ``timm_vit`` presets apply)."""

from __future__ import annotations

from collections import OrderedDict

import torch
from torch import nn


class TinyMLP(nn.Module):
    """Features -> two hidden Linear layers -> a Linear head. Shape: (B, 6) -> (B, 3).

    ``adapter`` is a base LayerNorm named like adapter weights: it must stay frozen.
    """

    def __init__(self) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Linear(6, 16), nn.GELU(), nn.Linear(16, 16), nn.GELU())
        self.adapter = nn.LayerNorm(16)
        self.head = nn.Linear(16, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.adapter(self.body(x)))


class _Attention(nn.Module):
    def __init__(self, d: int, n_heads: int) -> None:
        super().__init__()
        self.n_heads = n_heads
        self.qkv = nn.Linear(d, 3 * d)
        self.proj = nn.Linear(d, d)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batch, tokens, d = x.shape
        qkv = self.qkv(x).reshape(batch, tokens, 3, self.n_heads, d // self.n_heads)
        q, k, v = qkv.permute(2, 0, 3, 1, 4)  # each (B, heads, T, d_head)
        out = nn.functional.scaled_dot_product_attention(q, k, v)  # (B, heads, T, d_head)
        return self.proj(out.transpose(1, 2).reshape(batch, tokens, d))


class _Block(nn.Module):
    def __init__(self, d: int) -> None:
        super().__init__()
        self.norm1, self.attn = nn.LayerNorm(d), _Attention(d, n_heads=2)
        self.norm2 = nn.LayerNorm(d)
        self.mlp = nn.Sequential(
            OrderedDict(fc1=nn.Linear(d, 2 * d), act=nn.GELU(), fc2=nn.Linear(2 * d, d))
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class TinyTransformer(nn.Module):
    """A 2-block pre-norm Transformer named like a timm ViT, so the ``timm_vit`` presets apply.

    Shape: (B, T, 6) -> (B, 3) (mean over tokens, then the head).
    """

    adapter_family = "timm_vit"

    def __init__(self, embed_dim: int = 16) -> None:
        super().__init__()
        self.embed_dim = embed_dim
        self.embed = nn.Linear(6, embed_dim)
        self.blocks = nn.ModuleList([_Block(embed_dim) for _ in range(2)])
        self.norm = nn.LayerNorm(embed_dim)
        self.head = nn.Linear(embed_dim, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.embed(x)  # (B, T, d)
        for block in self.blocks:
            x = block(x)
        return self.head(self.norm(x).mean(dim=1))  # (B, 3)
