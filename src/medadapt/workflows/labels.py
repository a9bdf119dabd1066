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


def label(strategy: str) -> str:
    return STRATEGY_LABELS.get(strategy, strategy)
