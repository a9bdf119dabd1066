"""Readable names of the strategies, for reports and terminal output."""

STRATEGY_LABELS = {
    "base_only": "base model only",
    "head_only": "head-only adapter",
    "bottleneck": "bottleneck adapter",
    "lora": "LoRA adapter",
    "ia3": "IA3 adapter",
    "full_finetune": "full fine-tuning",
    "scratch_local": "new model, target data only",
    "pooled": "new model, pooled data",
}

# FLamby protocol: every strategy starts from a base trained on the pooled training sets (or, in
# leave-one-centre-out, on the other three centres), so "base model only" would read like
# FLamby's own "pooled" figure.
FLAMBY_LABELS = {**STRATEGY_LABELS, "base_only": "base model, pooled training sets, no adapter"}
LOCO_LABELS = {**STRATEGY_LABELS, "base_only": "base model, other three centres, no adapter"}


def label(strategy: str) -> str:
    return STRATEGY_LABELS.get(strategy, strategy)


def order(strategy: str) -> tuple[int, str]:
    """Sort key: the order of :data:`STRATEGY_LABELS` (base model first), then by name."""
    names = list(STRATEGY_LABELS)
    return (names.index(strategy) if strategy in names else len(names), strategy)
