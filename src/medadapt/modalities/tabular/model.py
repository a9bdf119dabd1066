"""The FT-Transformer's size for tables, and how tables train by default."""

from __future__ import annotations

from dataclasses import dataclass

from medadapt.modalities.base import TrainingDefaults
from medadapt.modalities.tabular.options import TabularOptions


@dataclass(frozen=True, kw_only=True)
class TabularModelConfig:
    """FT-Transformer size. The paper's default is d_token=192, 3 blocks, 8 heads; medadapt's
    default is smaller (64, 2, 4): hundreds of patients do not need more, and it trains in
    seconds on a laptop CPU."""

    d_token: int = 64
    n_blocks: int = 2
    n_heads: int = 4
    attention_dropout: float = 0.2
    ffn_dropout: float = 0.1
    residual_dropout: float = 0.0


TRAINING = TrainingDefaults(
    base={"lr": 1e-3, "batch_size": 128, "epochs": 200, "patience": 16},
    adapter={"lr": 3e-3, "batch_size": 64, "epochs": 200, "patience": 16},
    full={"lr": 3e-4, "batch_size": 64, "epochs": 200, "patience": 16},
    fixed_epochs_without_validation=40,
)


def model_config(options: TabularOptions) -> TabularModelConfig:
    return TabularModelConfig(
        d_token=options.d_token or 64,
        n_blocks=options.n_blocks or 2,
        n_heads=options.n_heads or 4,
    )
