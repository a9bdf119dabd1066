"""``medadapt export-peft``: an adapter taken to the Hugging Face PEFT ecosystem.

A LoRA or DoRA adapter trained by ``medadapt adapt`` is written as a PEFT directory
(``adapter_config.json`` + ``adapter_model.safetensors``) that
``peft.PeftModel.from_pretrained(network, directory)`` loads over the same base network, with
medadapt's outputs (:func:`medadapt.adapters.export_peft`). A trial had to write Python for it.
"""

from __future__ import annotations

from pathlib import Path

import typer

from medadapt.cli.common import stdout, warn
from medadapt.cli.main import app


@app.command("export-peft")
def export_peft_command(
    base: Path = typer.Option(
        ..., "--base", help="The base model the adapter was trained on (train-base --out)."
    ),
    adapter: Path = typer.Option(
        ..., "--adapter", help="The adapter to export (adapt --out; --method lora or dora)."
    ),
    out: Path = typer.Option(..., "--out", help="The PEFT directory to write."),
    force: bool = typer.Option(False, "--force", help="Replace a PEFT adapter in --out."),
) -> None:
    """Write a LoRA or DoRA adapter as a Hugging Face PEFT directory (adapter_config.json,
    adapter_model.safetensors) that peft.PeftModel.from_pretrained loads over the same base
    network, with the same outputs. PEFT's files record no fingerprint of the base: load
    them onto the base they were trained on.

    Example: medadapt adapt --base base --data heart.csv --label num --group-column dataset
    --group "VA Long Beach" --method lora --out va-lora, then medadapt export-peft --base base
    --adapter va-lora --out va-peft
    """
    from medadapt.adapters import export_peft
    from medadapt.cli.inputs import check_name_length
    from medadapt.fileio import check_output_dir, other_outputs
    from medadapt.modalities.bundle import BaseModel
    from medadapt.workflows.evaluate import recorded_result_warnings
    from medadapt.workflows.loading import attach_adapter

    check_name_length(out, "--out")
    check_output_dir(out, flag="--out", force=force,
                     markers={"adapter_config.json": "a PEFT adapter"},
                     foreign=other_outputs())  # fmt: skip
    network = BaseModel.load(base, flag="--base").model
    model, name, manifest = attach_adapter(network, adapter, base)
    _refuse_other_methods(adapter, name, manifest.get("method"))
    written = export_peft(model, name, out, overwrite=True)  # --out was checked above
    metrics = (manifest.get("metadata") or {}).get("metrics")
    for caution in recorded_result_warnings(metrics, f"adapter {name!r}"):  # a trial exported an
        warn(caution)  # adapter worse than its base without a word, where promote refused it
    method = "DoRA" if manifest.get("method") == "dora" else "LoRA"
    stdout.print(
        f"wrote {written}: adapter {name!r} as a PEFT {method} adapter; load it with "
        f"peft.PeftModel.from_pretrained(network, {str(written)!r}), network being this base's "
        f"(BaseModel.load({str(base)!r}).model): its files record no fingerprint of the base",
        markup=False, highlight=False, soft_wrap=True,
    )  # fmt: skip


def _refuse_other_methods(adapter: Path, name: str, method: str | None) -> None:
    """One ``error:`` line naming the fix where ``--adapter`` is not LoRA or DoRA (a trial
    ran the README's example on the README's own adapter, a bottleneck one, and was told only
    that it could not be exported)."""
    from medadapt.adapters.peft_io import EXPORTABLE_METHODS

    if method in EXPORTABLE_METHODS:
        return
    from medadapt.errors import ConfigError
    from medadapt.workflows.labels import label

    said = label(str(method))
    article = "an" if said[:1] in "AEIOUaeiou" else "a"
    raise ConfigError(
        f"--adapter {adapter} is {article} {said} ({name!r}); only LoRA and DoRA adapters "
        "can be exported to PEFT (PEFT has no bottleneck adapters; ia3 and head exports are "
        "not implemented): train one with 'medadapt adapt ... --method lora' (or dora) and "
        "export that"
    )
