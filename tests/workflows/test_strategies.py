"""What each strategy trains, read from one table."""

from __future__ import annotations

from medadapt.workflows.strategies import adapter_methods, is_adapter, judged_adapter, method_of


def test_each_strategy_names_the_method_it_trains():
    assert [method_of(s) for s in ("head_only", "bottleneck", "lora", "dora", "full_finetune")] == [
        "head", "bottleneck", "lora", "dora", "full"
    ]  # fmt: skip
    assert not any(map(is_adapter, ("base_only", "full_finetune", "scratch_local", "pooled")))
    study = ("base_only", "head_only", "lora", "full_finetune", "scratch_local", "dora")
    assert adapter_methods(study) == ("head", "lora", "dora")


def test_the_judged_adapter_is_the_first_preferred_one_run_and_dora_or_a_plug_in_counts():
    assert judged_adapter(["head_only", "lora", "bottleneck"]) == "bottleneck"
    assert judged_adapter(["base_only", "dora", "full_finetune"]) == "dora"
    assert judged_adapter(["base_only", "prefix_tuning"]) == "prefix_tuning"  # a plug-in
    assert judged_adapter(["base_only", "full_finetune", "scratch_local"]) is None
