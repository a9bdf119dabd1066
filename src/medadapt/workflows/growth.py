"""New classes: how well the old ones are kept (retention), for the adapter and, beside it,
for full fine-tuning with an extended head on the same samples."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from medadapt.errors import DataError
from medadapt.evaluate.retention import NO_OLD_DATA_FIX, OLD_DATA_FIX, old_class_retention
from medadapt.modalities.base import Modality, Samples
from medadapt.train.fitting import Adaptation, adapt, predict, training_config
from medadapt.workflows.scoring import score_samples
from medadapt.workflows.train_base import epoch_reporter


def check_old_data(old_data: Path | None, new_classes: Sequence[str]) -> None:
    if old_data is not None and not new_classes:
        raise DataError(
            "--old-data is where retention of the old classes is measured, which applies when "
            "classes are added: pass --new-classes too, or drop --old-data"
        )


MODEL = "{model}"  # in the sentence of :func:`old_class_test`: the model whose retention it is


def old_class_test(
    modality: Modality,
    base: Any,
    test: Samples,
    options: Any,
    record: dict[str, Any],
    method: str,
) -> tuple[Samples, str]:
    """The old classes' own test samples, neither the base nor the adapter trained on: those
    of ``--old-data`` (the base's source, usually), or (without it) the old-class samples held
    out from the new data (``test``, already free of both); and a sentence saying which (its
    :data:`MODEL` the model checked, as :func:`retention_of` names it)."""
    noun, old_data = modality.noun, getattr(options, "old_data", None)
    n_old_classes = len(modality.classes(base.schema))
    if old_data is None:
        n_old = int(sum(1 for y in test.labels.tolist() if y < n_old_classes))
        return test, f"the {n_old} old-class {noun} held out from the new data"
    split = base.training.get("split") or {}
    samples = modality.read_for_model(
        old_data, base, options.__class__(split=split.get("npz_split"), on_error=options.on_error),
        classes=modality.classes(base.schema),
        hint=f"pass the {noun} the base model was trained on (its classes only) as --old-data",
    )  # fmt: skip
    trained = modality.in_split(old_data, samples, split, "train") | modality.in_split(
        old_data, samples, record, "train"
    )
    kept = (~trained).nonzero()[0]
    adapted = "fine-tuned model" if method == "full" else "adapter"
    if len(kept) == 0:
        raise DataError(
            f"every {noun[:-1]} of {old_data} trained the base model or the {adapted}: pass "
            f"old-class {noun} neither was trained on as --old-data"
        )
    return samples.subset(kept), (
        f"the {len(kept)} {noun} of {Path(old_data).name} neither the base model nor the "
        f"{MODEL} trained on"
    )


def retention_of(
    modality: Modality, model, adapter: str | None, base: Any, old: tuple[Samples, str],
    who: str = "adapter", **options: Any,
) -> dict[str, Any]:  # fmt: skip
    """Old-class retention of ``model`` (through ``adapter``; ``who``: what it is, in the
    test set's sentence) against ``base`` on ``old``."""
    samples, described = old
    before = predict(modality, base.model, base.schema, samples)
    after = predict(modality, model, base.schema, samples, adapter=adapter)
    classes = modality.classes(base.schema)
    out = old_class_retention(samples.labels, before, after, classes, **options)
    out["test_set"] = described.replace(MODEL, who)
    return out


def measure(
    modality: Modality,
    base: Any,
    result: Adaptation,
    train: Samples,
    test: Samples,
    *,
    options: Any,
    record: dict[str, Any],
    seed: int,
    n_boot: int,
    config: Any,
    progress: Any = None,
) -> dict[str, Any]:
    """``{"retention", "full_finetune"}`` of an adapter that added classes (None otherwise)."""
    out: dict[str, Any] = {"retention": None, "full_finetune": None}
    if not result.new_classes:
        return out
    adapter = None if result.method == "full" else result.name
    old = old_class_test(modality, base, test, options, record, result.method)
    fix = OLD_DATA_FIX if getattr(options, "old_data", None) is not None else NO_OLD_DATA_FIX
    who = "fine-tuned model" if result.method == "full" else "adapter"
    out["retention"] = retention_of(
        modality, result.model, adapter, base, old, who, n_boot=n_boot, seed=seed, fix=fix
    )
    out["retention"]["trick"] = result.retention
    if getattr(options, "compare_full", False) and result.method != "full":
        if progress:
            progress(f"full fine-tuning on {len(train)} {modality.noun}, for comparison")
        full = adapt(
            modality, base, train, method="full", name="full", new_classes=result.new_classes,
            train_config=training_config(modality, "full", epochs=getattr(options, "epochs", None)),
            seed=seed, retention="none", on_epoch=epoch_reporter(progress, "full, for comparison"),
        )  # fmt: skip
        scores = predict(modality, full.model, base.schema, test)
        out["full_finetune"] = {
            "method": "full",
            "trick": "none",
            "trainable_params": full.trainable_params,
            "train_seconds": round(full.fit.seconds, 2),
            "retention": retention_of(  # full fine-tuning trained on the adapter's samples
                modality,
                full.model,
                None,
                base,
                old,
                "adapter or the full fine-tuning",
                n_boot=n_boot,
                seed=seed,
                fix=fix,
            ),
            **score_samples(
                modality,
                base.schema,
                test,
                scores,
                classes=full.classes,
                by_group=False,
                n_boot=n_boot,
                seed=seed,
            ),
        }
    return out
