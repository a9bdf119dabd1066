"""What each strategy of a study or demo trains: an adapter method on the frozen base, the
whole base (full fine-tuning), a new model, or nothing (the base alone). Their readable names
are in :mod:`medadapt.workflows.labels`."""

from __future__ import annotations

from collections.abc import Sequence

NEW_MODELS = ("scratch_local", "pooled")
"""Strategies that train a new model from the data (no base)."""
WHOLE_MODELS = ("base_only", "full_finetune", *NEW_MODELS)
"""Strategies that are a whole model rather than an adapter on the frozen base."""
JUDGED_FIRST = ("bottleneck", "lora", "dora", "ia3", "head_only")
"""The adapter a study's verdicts concern: the first of these it ran (else its first
adapter: a plug-in method)."""
_METHOD_OF = {"head_only": "head", "full_finetune": "full"}  # other adapters: their method


def method_of(strategy: str) -> str:
    """The ``adapt`` method a strategy trains ("head" for head_only, "full" for full
    fine-tuning, an adapter strategy's own name otherwise)."""
    return _METHOD_OF.get(strategy, strategy)


def is_adapter(strategy: str) -> bool:
    """Whether ``strategy`` trains an adapter (head included) on the frozen base."""
    return strategy not in WHOLE_MODELS


def adapter_methods(strategies: Sequence[str]) -> tuple[str, ...]:
    """The adapter methods ``strategies`` train (those that may take ``--adapter-options``)."""
    return tuple(method_of(s) for s in strategies if is_adapter(s))


def judged_adapter(strategies: Sequence[str]) -> str | None:
    """The adapter strategy a study's verdicts concern (None: it ran no adapter)."""
    adapters = [s for s in strategies if is_adapter(s)]
    return next((s for s in JUDGED_FIRST if s in adapters), adapters[0] if adapters else None)
