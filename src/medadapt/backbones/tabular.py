"""FT-Transformer (Gorishniy et al. 2021, "Revisiting Deep Learning Models for Tabular Data").

Every feature becomes a token; a [CLS] token is appended; pre-norm Transformer blocks with
ReGLU feed-forward layers; the head reads the [CLS] token. Missing values are native: a missing
numeric feature is replaced by that feature's learned "missing" token (no imputation), a
missing categorical feature has its own embedding row.

Stable sub-module names (``blocks.{i}.attention.W_q``, ``blocks.{i}.ffn.linear2``,
``head.linear``...) are what the ``ft_transformer`` adapter preset targets.

>>> import torch
>>> model = FTTransformer(n_numeric=3, cat_cardinalities=[4], d_out=1, d_token=16, n_heads=2)
>>> x_num = torch.tensor([[0.1, float("nan"), -1.0]])
>>> model(x_num=x_num, x_cat=torch.tensor([[2]])).shape
torch.Size([1, 1])
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from medadapt.errors import ConfigError


class FeatureTokenizer(nn.Module):
    """Numeric feature j -> ``x_j * weight_j + bias_j`` (or ``missing_j``); categorical ->
    embedding + bias.

    Shape: x_num (B, n_num), x_cat (B, n_cat) -> (B, n_num + n_cat, d_token)
    """

    def __init__(self, *, n_numeric: int, cat_cardinalities: Sequence[int], d_token: int):
        super().__init__()
        bound = 1 / math.sqrt(d_token)
        self.num_weight = nn.Parameter(torch.empty(n_numeric, d_token).uniform_(-bound, bound))
        self.num_bias = nn.Parameter(torch.empty(n_numeric, d_token).uniform_(-bound, bound))
        self.num_missing = nn.Parameter(torch.empty(n_numeric, d_token).uniform_(-bound, bound))
        cards = [int(c) for c in cat_cardinalities]
        offsets = torch.tensor([0, *cards[:-1]], dtype=torch.long).cumsum(0) if cards else None
        self.register_buffer("cat_offsets", offsets, persistent=False)
        self.cat_embeddings = nn.Embedding(max(sum(cards), 1), d_token)
        nn.init.uniform_(self.cat_embeddings.weight, -bound, bound)
        self.cat_bias = nn.Parameter(torch.empty(len(cards), d_token).uniform_(-bound, bound))

    def forward(self, x_num: torch.Tensor, x_cat: torch.Tensor) -> torch.Tensor:
        tokens = []
        if x_num.shape[1]:
            missing = torch.isnan(x_num).unsqueeze(-1)  # (B, n_num, 1)
            values = torch.nan_to_num(x_num, nan=0.0).unsqueeze(-1)  # (B, n_num, 1)
            numeric = values * self.num_weight + self.num_bias  # (B, n_num, d)
            tokens.append(torch.where(missing, self.num_missing.expand_as(numeric), numeric))
        if x_cat.shape[1]:
            tokens.append(self.cat_embeddings(x_cat + self.cat_offsets) + self.cat_bias)
        return torch.cat(tokens, dim=1)


class MultiheadAttention(nn.Module):
    """Self-attention with separate ``W_q``, ``W_k``, ``W_v``, ``W_out`` (adapter targets).

    Shape: (B, T, d) -> (B, T, d)
    """

    def __init__(self, *, d_token: int, n_heads: int, dropout: float) -> None:
        super().__init__()
        if d_token % n_heads:
            raise ConfigError(f"d_token must be divisible by n_heads, got {d_token=}, {n_heads=}")
        self.n_heads = n_heads
        self.dropout = dropout
        self.W_q = nn.Linear(d_token, d_token)
        self.W_k = nn.Linear(d_token, d_token)
        self.W_v = nn.Linear(d_token, d_token)
        self.W_out = nn.Linear(d_token, d_token)
        for layer in (self.W_q, self.W_k, self.W_v):
            nn.init.zeros_(layer.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batch, tokens, d = x.shape
        heads = self.n_heads

        def split(t: torch.Tensor) -> torch.Tensor:  # (B, T, d) -> (B, H, T, d/H)
            return t.reshape(batch, tokens, heads, d // heads).transpose(1, 2)

        q, k, v = split(self.W_q(x)), split(self.W_k(x)), split(self.W_v(x))
        attended = F.scaled_dot_product_attention(
            q, k, v, dropout_p=self.dropout if self.training else 0.0
        )  # (B, H, T, d/H)
        return self.W_out(attended.transpose(1, 2).reshape(batch, tokens, d))


class ReGLUFeedForward(nn.Module):
    """``linear2(dropout(relu(a) * b))`` with ``a, b = linear1(x).chunk(2)``.

    Shape: (B, T, d) -> (B, T, d)
    """

    def __init__(self, *, d_token: int, d_hidden: int, dropout: float) -> None:
        super().__init__()
        self.linear1 = nn.Linear(d_token, 2 * d_hidden)
        self.linear2 = nn.Linear(d_hidden, d_token)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a, b = self.linear1(x).chunk(2, dim=-1)
        return self.linear2(self.dropout(F.relu(a) * b))


class TransformerBlock(nn.Module):
    """Pre-norm block; the first block has no attention norm (as in the paper)."""

    def __init__(
        self,
        *,
        d_token: int,
        n_heads: int,
        d_ffn_hidden: int,
        attention_dropout: float,
        ffn_dropout: float,
        residual_dropout: float,
        first: bool,
    ) -> None:
        super().__init__()
        self.attention_norm = nn.Identity() if first else nn.LayerNorm(d_token)
        self.attention = MultiheadAttention(
            d_token=d_token, n_heads=n_heads, dropout=attention_dropout
        )
        self.ffn_norm = nn.LayerNorm(d_token)
        self.ffn = ReGLUFeedForward(d_token=d_token, d_hidden=d_ffn_hidden, dropout=ffn_dropout)
        self.residual_dropout = nn.Dropout(residual_dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.residual_dropout(self.attention(self.attention_norm(x)))
        return x + self.residual_dropout(self.ffn(self.ffn_norm(x)))


class Head(nn.Module):
    """LayerNorm -> ReLU -> Linear on the [CLS] token. Shape: (B, d) -> (B, d_out)"""

    def __init__(self, *, d_token: int, d_out: int) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(d_token)
        self.linear = nn.Linear(d_token, d_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(F.relu(self.norm(x)))


class FTTransformer(nn.Module):
    """FT-Transformer for tables with native missing values.

    Shape: x_num (B, n_numeric) float with NaN = missing, x_cat (B, n_categorical) int64
    (0 = missing, 1 = unseen category) -> logits (B, d_out)
    """

    adapter_family = "ft_transformer"

    def __init__(
        self,
        *,
        n_numeric: int,
        cat_cardinalities: Sequence[int],
        d_out: int,
        d_token: int = 192,
        n_blocks: int = 3,
        n_heads: int = 8,
        d_ffn_factor: float = 4 / 3,
        attention_dropout: float = 0.2,
        ffn_dropout: float = 0.1,
        residual_dropout: float = 0.0,
    ) -> None:
        super().__init__()
        if n_numeric < 0 or n_numeric + len(cat_cardinalities) == 0:
            raise ConfigError(f"the model needs at least one feature, got {n_numeric=}")
        if any(c < 3 for c in cat_cardinalities):
            raise ConfigError(
                f"each categorical cardinality counts missing + unseen + levels (>= 3), "
                f"got {list(cat_cardinalities)}"
            )
        for name, value in (("d_out", d_out), ("d_token", d_token), ("n_blocks", n_blocks)):
            if value < 1:
                raise ConfigError(f"{name} must be positive, got {name}={value}")
        self.d_token = d_token
        self.config: dict[str, Any] = {
            "n_numeric": n_numeric,
            "cat_cardinalities": [int(c) for c in cat_cardinalities],
            "d_out": d_out,
            "d_token": d_token,
            "n_blocks": n_blocks,
            "n_heads": n_heads,
            "d_ffn_factor": d_ffn_factor,
            "attention_dropout": attention_dropout,
            "ffn_dropout": ffn_dropout,
            "residual_dropout": residual_dropout,
        }
        self.tokenizer = FeatureTokenizer(
            n_numeric=n_numeric, cat_cardinalities=cat_cardinalities, d_token=d_token
        )
        self.cls_token = nn.Parameter(torch.empty(1, 1, d_token).uniform_(-0.1, 0.1))
        self.blocks = nn.ModuleList(
            TransformerBlock(
                d_token=d_token,
                n_heads=n_heads,
                d_ffn_hidden=max(1, int(d_token * d_ffn_factor)),
                attention_dropout=attention_dropout,
                ffn_dropout=ffn_dropout,
                residual_dropout=residual_dropout,
                first=i == 0,
            )
            for i in range(n_blocks)
        )
        self.head = Head(d_token=d_token, d_out=d_out)

    def forward_features(self, x_num: torch.Tensor, x_cat: torch.Tensor) -> torch.Tensor:
        """The [CLS] representation. Shape: (B, d_token)"""
        tokens = self.tokenizer(x_num, x_cat)  # (B, n_features, d)
        x = torch.cat([tokens, self.cls_token.expand(len(tokens), -1, -1)], dim=1)
        for block in self.blocks:
            x = block(x)
        return x[:, -1]

    def forward(self, x_num: torch.Tensor, x_cat: torch.Tensor) -> torch.Tensor:
        return self.head(self.forward_features(x_num, x_cat))
