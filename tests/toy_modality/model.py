"""The signals' backbone: patches of the signal as tokens through FT-Transformer blocks (the
block and head classes of :mod:`medadapt.backbones.tabular`, so the adapter presets of the
``ft_transformer`` family place every method), and a [CLS] token read by the head."""

from __future__ import annotations

import torch
from torch import nn

from medadapt.backbones.tabular import Head, TransformerBlock


class SignalTransformer(nn.Module):
    """Shape: signal (B, length) -> logits (B, d_out)."""

    adapter_family = "ft_transformer"

    def __init__(
        self,
        *,
        length: int,
        patch: int,
        d_out: int,
        d_token: int = 32,
        n_blocks: int = 2,
        n_heads: int = 4,
    ) -> None:
        super().__init__()
        self.config = {
            "length": length,
            "patch": patch,
            "d_out": d_out,
            "d_token": d_token,
            "n_blocks": n_blocks,
            "n_heads": n_heads,
        }
        self.patch, self.d_token = patch, d_token  # d_token: the family's width (bottlenecks)
        self.embed = nn.Linear(patch, d_token)
        self.position = nn.Parameter(torch.zeros(1, length // patch + 1, d_token))
        self.cls_token = nn.Parameter(torch.zeros(1, 1, d_token))
        self.blocks = nn.ModuleList(
            TransformerBlock(
                d_token=d_token,
                n_heads=n_heads,
                d_ffn_hidden=d_token,
                attention_dropout=0.0,
                ffn_dropout=0.0,
                residual_dropout=0.0,
                first=i == 0,
            )
            for i in range(n_blocks)
        )
        self.head = Head(d_token=d_token, d_out=d_out)

    def forward(self, signal: torch.Tensor) -> torch.Tensor:
        tokens = self.embed(signal.unflatten(1, (-1, self.patch)))  # (B, length/patch, d)
        x = torch.cat([tokens, self.cls_token.expand(len(tokens), -1, -1)], dim=1)
        x = x + self.position
        for block in self.blocks:
            x = block(x)
        return self.head(x[:, -1])
