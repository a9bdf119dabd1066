"""Readable names of the strategies, for reports and terminal output."""

STRATEGY_LABELS = {
    "base_only": "base model without adapter",
    "head_only": "head-only adapter",
    "bottleneck": "bottleneck adapter",
    "lora": "LoRA adapter",
    "ia3": "IA3 adapter",
    "full_finetune": "full fine-tuning",
    "scratch_local": "new model on the target data only",
    "pooled": "new model on pooled data",
}

# FLamby protocol: every strategy starts from a base trained on the pooled training sets (or, in
# leave-one-centre-out, on the other three centres), so "base model without adapter" would read like
# FLamby's own "pooled" figure.
FLAMBY_LABELS = {**STRATEGY_LABELS, "base_only": "base model, pooled training sets, no adapter"}
LOCO_LABELS = {**STRATEGY_LABELS, "base_only": "base model, other three centres, no adapter"}


def label(strategy: str) -> str:
    """A strategy's readable name; an adapter method's own label (from the method
    registry) when no study label names it (a plug-in method)."""
    if strategy in STRATEGY_LABELS:
        return STRATEGY_LABELS[strategy]
    from medadapt.adapters.methods import method_label, method_names

    return method_label(strategy) if strategy in method_names() else strategy


def order(strategy: str) -> tuple[int, str]:
    """Sort key: the order of :data:`STRATEGY_LABELS` (base model first), then by name."""
    names = list(STRATEGY_LABELS)
    return (names.index(strategy) if strategy in names else len(names), strategy)
