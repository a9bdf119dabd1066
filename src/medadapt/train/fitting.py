"""Training any modality's model: base models, adapters, full fine-tuning, predictions.

Written once over :class:`~medadapt.modalities.base.Modality`: the modality gives the
backbone, the tensors, the early-stopping split and the scores; this module runs the shared
loop (:mod:`medadapt.train.loop`), places adapters with the method registry's defaults for the
backbone's family, and (for classifiers that can grow) adds new classes with a retention
loss. With ``cache_from = k`` the blocks below ``k`` run once (frozen-feature cache, ViTs).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np
import torch
from torch import nn

from medadapt import checks
from medadapt.adapters import AdapterModel, default_config, method_names, without_adapters
from medadapt.adapters.fingerprint import fingerprint_model
from medadapt.adapters.methods import FULL_TAKES_NO_OPTIONS
from medadapt.errors import ConfigError
from medadapt.modalities.base import Modality, Samples
from medadapt.modalities.bundle import BaseModel, note_copy
from medadapt.train import growth
from medadapt.train.loop import FitResult, TensorData, TrainConfig, fit, predict_logits, task_loss
from medadapt.wording import plural

OnEpoch = Callable[[int, float, float | None], None] | None
ADAPTER_METHODS = ("bottleneck", "lora", "ia3", "head")


def training_config(modality: Modality, which: str, **changes: Any) -> TrainConfig:
    """The modality's default :class:`TrainConfig` for ``which`` (base, adapter, full), with
    ``changes`` (None values ignored: an option the user left out)."""
    config = TrainConfig(**getattr(modality.defaults, which))
    return replace(config, **{k: v for k, v in changes.items() if v is not None})


#: the command-line options that change a training configuration, by the same name
TRAINING_OPTIONS = ("epochs", "lr", "patience")


def training_config_for(modality: Modality, which: str, options: Any) -> TrainConfig:
    """:func:`training_config` with the :data:`TRAINING_OPTIONS` a command's ``options`` set
    (``train-base`` and ``adapt`` alike; a modality without one leaves its default)."""
    return training_config(
        modality, which, **{name: getattr(options, name, None) for name in TRAINING_OPTIONS}
    )


def fit_on(
    modality: Modality,
    model: nn.Module,
    schema: Any,
    samples: Samples,
    *,
    config: TrainConfig,
    val_fraction: float,
    seed: int,
    targets: torch.Tensor | None = None,
    loss_fn: Callable | None = None,
    cache_from: int | None = None,
    on_epoch: OnEpoch = None,
) -> tuple[FitResult, int, int, dict[str, Any] | None]:
    """Train ``model`` on ``samples`` with early stopping on the modality's validation
    split (none below ``min_samples_for_validation`` patients: the split keeps a patient's
    samples together; a fixed number of epochs instead)."""
    defaults = modality.defaults
    data = modality.tensors(schema, samples)
    if targets is not None:
        data = TensorData(data.inputs, targets)
    n_patients = len(np.unique(np.asarray(samples.patients()).astype(str)))
    if n_patients >= defaults.min_samples_for_validation and val_fraction > 0:
        train_idx, val_idx = modality.validation_split(samples, val_fraction, seed + 1)
    else:
        train_idx, val_idx = np.arange(len(samples)), None
        epochs = min(config.epochs, defaults.fixed_epochs_without_validation)
        config = replace(config, epochs=epochs)
    module, cache = model, None
    if cache_from is not None:
        module, data, cache = _cached(model, data, cache_from)
    train = data.subset(torch.as_tensor(train_idx))
    val = None if val_idx is None else data.subset(torch.as_tensor(val_idx))
    loss_fn = loss_fn or task_loss(modality.loss_task(schema))
    result = fit(module, train, val, loss_fn=loss_fn, config=replace(config, seed=seed),
                 on_epoch=on_epoch)  # fmt: skip
    return result, len(train), 0 if val is None else len(val), cache


def _cached(model: nn.Module, data: TensorData, cache_from: int):
    """The top of ``model`` and its inputs: the frozen blocks below ``cache_from`` run once."""
    from medadapt.features.cached import precompute_tokens, split_vision_model

    prefix, suffix = split_vision_model(model, cache_from)
    start = time.perf_counter()
    (images,) = data.inputs.values()
    tokens = precompute_tokens(prefix, images, batch_size=128)
    cache = {
        "split_block": cache_from,
        "tokens_mib": round(tokens.numel() * tokens.element_size() / 2**20, 2),
        "seconds": round(time.perf_counter() - start, 2),
    }
    return suffix, TensorData({"tokens": tokens}, data.y), cache


def method_named(method: Any) -> str:
    """``method`` as the method registry names it, whatever its case and surrounding spaces
    (``"LoRA"``, as the README writes it, was refused); refused otherwise, with the names.

    >>> method_named(" LoRA"), method_named("full")
    ('lora', 'full')
    """
    from medadapt.checks import did_you_mean

    methods = [*method_names(), "full"]
    if isinstance(method, str):
        for name in methods:
            if name.casefold() == method.strip().casefold():
                return name
    meant = did_you_mean(method, methods) if isinstance(method, str) else ""
    raise ConfigError(f"method must be one of {', '.join(methods)}; got {method!r}{meant}")


def python_method_options(method: str, options: Any, into: Any) -> dict[str, Any] | None:
    """The Python API's ``method_options`` (a method's settings, ``{"r": 4}``, as the command
    line's ``--adapter-options``) checked in the Python user's words, and ``into`` refused for
    ``full`` (it added nothing there, silently): a trial could set LoRA's rank from the
    command line only."""
    from medadapt.adapters.methods import method_spec, settable_options

    if method == "full":
        if options:
            raise ConfigError("method_options sets an adapter method's settings; method='full' "
                              "trains every weight and takes none: drop it")  # fmt: skip
        if into is not None:
            raise ConfigError("into= adds an adapter to a model; method='full' trains a "
                              "fine-tuned copy of the base and adds nothing to it: drop "
                              "into")  # fmt: skip
        return None
    if options is None:
        return None
    if not isinstance(options, Mapping):
        raise ConfigError(f"method_options must be a dict of the method's settings (e.g. "
                          f"{{'r': 4}} for lora); got {type(options).__name__}")  # fmt: skip
    settable = settable_options(method)
    for key in options:
        if key not in settable:
            its = ", ".join(sorted(settable)) or "none"
            raise ConfigError(f"method_options: {key!r} is not an option of {method} (its "
                              f"options: {its})")  # fmt: skip
    try:
        method_spec(method).config_class(**options)
    except (ConfigError, TypeError, ValueError) as error:
        said = str(error).replace("self.", "")
        raise ConfigError(f"method_options {dict(options)}: {said}") from None
    return dict(options)


def check_arguments(train_config: Any, seed: Any) -> None:
    """The Python API's ``train_config`` and ``seed``, refused by name before anything is
    read or trained (a dict for ``train_config`` failed deep in ``dataclasses.replace``, a
    text seed after the data's warnings)."""
    example = "a TrainConfig (ma.TrainConfig(epochs=50, lr=1e-3)) or None"
    checks.of_type(train_config, "train_config", TrainConfig, example)
    checks.of_type(seed, "seed", (int, np.integer), "a whole number (seed=0)")
    checks.seed(int(seed), "seed")


def train_base(
    modality: Modality,
    schema: Any,
    samples: Samples,
    *,
    options: Any,
    train_config: TrainConfig | None = None,
    seed: int = 0,
    freeze_backbone: bool = False,
    on_epoch: OnEpoch = None,
) -> BaseModel:
    """Train a new base model for ``schema`` on ``samples`` (all weights, or only the head
    with ``freeze_backbone``: then the frozen features are computed once)."""
    torch.manual_seed(seed)
    model = modality.new_model(schema, options, seed)
    config = train_config or training_config(modality, "base")
    cache_from = None
    if freeze_backbone:
        model.requires_grad_(False)
        for head in modality.heads(model):
            model.get_submodule(head).requires_grad_(True)
        cache_from = len(model.blocks) if modality.caches_frozen_features else None
    result, n_train, n_val, cache = fit_on(
        modality, model, schema, samples, config=config, seed=seed, cache_from=cache_from,
        val_fraction=modality.defaults.val_fraction_base, on_epoch=on_epoch,
    )  # fmt: skip
    model.requires_grad_(True)
    model.eval()
    training = {
        **modality.training_record(schema, samples),
        **modality.model_record(options, model),
        "n_train": n_train,
        "n_val": n_val,
        "feature_cache": cache,
        "epochs": result.epochs_run,
        "best_epoch": result.best_epoch,
        "val_loss_measured": result.best_val_loss is not None,  # False: none was a number
        "seconds": round(result.seconds, 2),
        "seed": seed,
        "train_config": asdict(config),
    }
    return BaseModel(
        model=model,
        kind=modality.kind,
        architecture=modality.architecture(model),
        schema=schema,
        training=training,
    )


@dataclass
class Adaptation:
    """An adapted model and how it was trained."""

    model: nn.Module  # AdapterModel (adapter methods) or a fine-tuned copy (full)
    name: str
    method: str
    classes: list[str]
    new_classes: list[str]
    trainable_params: int
    n_train: int
    n_val: int
    fit: FitResult
    feature_cache: dict[str, Any] | None = None
    retention: str = "none"  # how old classes were kept when classes were added
    # features kept with allow_leak although each alone predicts the label on the training
    # rows (Leak.to_json: name, statistic, row count); save_adapter writes them with an
    # adapter (a fully fine-tuned copy is a bare network: they are only here)
    allowed_leaks: list[dict[str, Any]] = field(default_factory=list)
    # Riley et al.'s development criterion for an adapter read as a new model, as the command
    # line's adapt records it (``ma.adapt`` sets it; None where it does not apply)
    sample_size: dict[str, Any] | None = None

    def __repr__(self) -> str:
        """A line a notebook can read (a trial's ``print(adapted)`` listed the whole network,
        as ``print(base)`` did): the name, the method, its size and its training; ``.model``
        shows the network."""
        added = f", new classes {', '.join(map(str, self.new_classes))}" if self.new_classes else ""
        return (f"Adaptation({self.name!r}: {self.method}, {self.trainable_params:,} trainable "
                f"parameters, trained on {self.n_train} ({self.n_val} for validation), best "
                f"epoch {self.fit.best_epoch} of {self.fit.epochs_run}{added})")  # fmt: skip


def adapt(
    modality: Modality,
    base: BaseModel,
    samples: Samples,
    *,
    method: str,
    name: str,
    new_classes: Sequence[str] = (),
    top_blocks: int | None = None,
    into: AdapterModel | None = None,
    train_config: TrainConfig | None = None,
    seed: int = 0,
    retention: str = "distill",
    on_epoch: OnEpoch = None,
    method_options: Mapping[str, Any] | None = None,
) -> Adaptation:
    """Train adapter ``name`` (for ``full``: a fine-tuned copy) on ``samples``.

    ``new_classes`` (modalities that can grow): the model gets ``base classes + new`` outputs
    through an extended head copy; ``retention="distill"`` keeps the base's old-class logits
    (see :mod:`medadapt.train.growth`). ``method_options``: the method's settings over its
    defaults (``--adapter-options``). ``top_blocks``: adapters only in the top K blocks,
    trained on cached frozen features of the blocks below. ``into``: an AdapterModel over
    ``base.model`` to add the adapter to (one model serving many adapters).
    """
    schema = base.schema
    classes = modality.grown_classes(schema, new_classes)
    grow = len(classes) > len(modality.classes(schema))
    if grow:
        growth.check(modality, schema, samples, classes, retention)
    torch.manual_seed(seed)
    head_out_features = len(classes) if grow else None
    if method == "full":
        if method_options:
            raise ConfigError(FULL_TAKES_NO_OPTIONS)
        model, trainable, cache_from = _fine_tuned_copy(base, top_blocks, head_out_features)
    else:
        model, trainable, cache_from = _with_adapter(
            modality, base, method, name, into, top_blocks, head_out_features, method_options
        )
    config = train_config or training_config(modality, "full" if method == "full" else "adapter")
    targets, loss_fn = None, None
    if grow and retention == "distill":
        targets, loss_fn = growth.distillation(modality, base, samples, classes)
    result, n_train, n_val, cache = fit_on(
        modality, model, schema, samples, config=config, seed=seed, targets=targets,
        loss_fn=loss_fn, cache_from=cache_from, on_epoch=on_epoch,
        val_fraction=modality.defaults.val_fraction_adapter,
    )  # fmt: skip
    _stop_training(model)
    return Adaptation(
        model=model,
        name=name,
        method=method,
        classes=classes,
        new_classes=classes[len(modality.classes(schema)) :],
        trainable_params=trainable,
        n_train=n_train,
        n_val=n_val,
        fit=result,
        feature_cache=cache,
        retention=retention if grow else "none",
    )


def _fine_tuned_copy(
    base: BaseModel, top_blocks: int | None, head_out_features: int | None
) -> tuple[nn.Module, int, None]:
    """A copy of the base with every weight trainable (the head extended to
    ``head_out_features`` outputs when given), its parameter count, and no feature cache."""
    growth.refuse_top_blocks(top_blocks)
    model: nn.Module = without_adapters(base.model)
    if head_out_features is not None:
        growth.extend_head(model, head_out_features)
    model.requires_grad_(True)
    return model, sum(p.numel() for p in model.parameters()), None


def _with_adapter(
    modality: Modality,
    base: BaseModel,
    method: str,
    name: str,
    into: AdapterModel | None,
    top_blocks: int | None,
    head_out_features: int | None,
    method_options: Mapping[str, Any] | None = None,
) -> tuple[AdapterModel, int, int | None]:
    """``into`` (or a new AdapterModel over the base) with adapter ``name`` added and the only
    thing trained, its parameter count, and where the frozen-feature cache ends."""
    if method not in method_names():
        choices = ", ".join([*method_names(), "full"])
        raise ConfigError(f"--method must be one of {choices}; got {method!r}")
    _check_into(into, base)
    if into is None:
        network = without_adapters(base.model)
        note_copy(network, base)  # the Python API's predict finds which rows trained it
        model = AdapterModel(network)
    else:
        model = into
    layers = growth.top_layers(model, top_blocks)
    config = default_config(
        method,
        modality.family(model),
        heads=modality.heads(model),
        layers=layers,
        head_out_features=head_out_features,
        options=method_options,
    )
    model.add_adapter(name, config)
    model.train_adapter(name)
    trainable = model.count_parameters(name)
    cache_from = (
        growth.cache_from(model, method, layers) if modality.caches_frozen_features else None
    )
    return model, trainable, cache_from


def _check_into(into: Any, base: BaseModel) -> None:
    """``into`` must be an AdapterModel over a network of the base's kind: a bare network
    failed as "'FTTransformer' object has no attribute 'add_adapter'", and one of another
    kind as "no module named 'head.linear' in VisionTransformer"."""
    if into is None:
        return
    fix = "pass ma.AdapterModel(base.model), or the .model of an earlier adapt on this base"
    if not isinstance(into, AdapterModel):
        raise ConfigError(f"into must be an AdapterModel, not {type(into).__name__}: {fix}")
    wrapped = type(getattr(base.model, "base_model", base.model)).__name__
    if type(into.base_model).__name__ != wrapped:
        raise ConfigError(
            f"into wraps a {type(into.base_model).__name__}, but the base model is a "
            f"{wrapped}: {fix}"
        )
    theirs, ours = into.fingerprint.weights, fingerprint_model(base.model).weights
    if theirs != ours:  # another model of the same kind: it failed later on shapes
        raise ConfigError(
            f"into wraps another {wrapped} (base weights {theirs[:12]}), not this base model "
            f"({ours[:12]}): {fix}"
        )


def _stop_training(model: nn.Module) -> None:
    """Evaluation mode; an AdapterModel also with no adapter active and every weight frozen."""
    if isinstance(model, AdapterModel):
        model.set_active(None)
        model.requires_grad_(False)
    model.eval()


def require_network(model: Any) -> None:
    """Refuse what holds a network instead of being one (a BaseModel, an Adaptation): it
    failed deep in torch as "'BaseModel' object has no attribute 'eval'"."""
    if not isinstance(model, nn.Module):
        raise ConfigError(
            f"model must be the network to score, not {type(model).__name__}: pass its .model "
            "(base.model, or the .model of ma.adapt's result)"
        )


def predict(
    modality: Modality,
    model: nn.Module,
    schema: Any,
    samples: Any,
    *,
    adapter: str | None = None,
    adapter_ids: Sequence[str | None] | None = None,
    batch_size: int | None = None,
) -> np.ndarray:
    """Scores of ``model`` (through ``adapter``, or one adapter per sample) on ``samples``."""
    require_network(model)
    data = modality.tensors(schema, samples, with_labels=False)
    if adapter_ids is None and isinstance(model, AdapterModel):
        adapter_ids = [adapter] * len(data)
    if adapter_ids is not None:
        if len(adapter_ids) != len(data):
            raise ConfigError(
                f"adapter_ids has {plural(len(adapter_ids), 'entry', 'entries')} for "
                f"{plural(len(data), 'sample')}: pass one per sample (None for the base model "
                "alone), or adapter= for all"
            )
        data.adapter_ids = list(adapter_ids)
    return modality.scores(schema, predict_logits(model, data, batch_size or modality.batch_size))
