"""The grid of a study: strategies, fractions and seeds, and the helpers its points share."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from medadapt.checks import did_you_mean
from medadapt.data.splits import nested_fraction
from medadapt.errors import ConfigError
from medadapt.modalities.base import Modality, Samples, register
from medadapt.workflows.strategies import method_of

STRATEGIES = ("base_only", "head_only", "bottleneck", "lora", "full_finetune", "scratch_local")
FRACTIONS = (0.05, 0.1, 0.25, 0.5, 1.0)
ADAPT_NAMES = {"head": "head_only", "full": "full_finetune"}
"""``adapt --method`` names of strategies a study names otherwise: the same training, so
``--methods head`` is ``head_only`` (the study's name, in its results and report)."""


def known_strategies() -> tuple[str, ...]:
    """Every strategy a study may run: the default ones and every other registered adapter
    method under its own name (ia3, dora ...)."""
    from medadapt.adapters.methods import method_names

    extra = tuple(m for m in method_names() if m not in ("head", "bottleneck", "lora"))
    return (*STRATEGIES, *extra)


GIVEN_BASE = "(the given base model)"
"""What ``study.json`` records as the source groups of a base model passed with ``--base``."""


@dataclass(frozen=True, kw_only=True)
class StudyConfig:
    """The study grid and its evaluation settings. ``base``: a given base model (then the
    source groups may be empty and the target every sample when ``target_group`` is None)."""

    group_column: str | None
    target_group: str | None
    source_groups: tuple[str, ...] = ()
    strategies: tuple[str, ...] = ()  # empty: the modality's defaults
    fractions: tuple[float, ...] = FRACTIONS
    seeds: int = 5
    test_fraction: float = 0.3
    n_boot: int = 500
    epochs: int | None = None  # every model (base included) trains this long, without patience
    base: str | None = None
    options: dict[str, Any] = field(default_factory=dict)  # the modality's options, for the digest
    method_options: dict[str, dict[str, Any]] = field(default_factory=dict)  # by adapter method

    def options_of(self, strategy: str) -> dict[str, Any]:
        """The ``--adapter-options`` a strategy's adapter is trained with (none: defaults)."""
        return self.method_options.get(method_of(strategy), {})

    def check(self, modality: Modality) -> StudyConfig:
        allowed = modality.study_strategies(known_strategies())
        given = [ADAPT_NAMES.get(s, s) for s in self.strategies]
        strategies = list(dict.fromkeys(given)) or modality.study_strategies(STRATEGIES)
        unknown = [s for s in strategies if s not in allowed]
        if unknown:
            aliases = ", ".join(f"{k} for {v}" for k, v in ADAPT_NAMES.items() if v in allowed)
            meant = did_you_mean(unknown[0], [*allowed, *ADAPT_NAMES])  # "lorra": 'lora'?
            raise ConfigError(
                f"--methods: {', '.join(map(repr, unknown))} not available for "
                f"{modality.noun}; choose from {', '.join(allowed)}"
                + (f" (or adapt's names: {aliases})" if aliases else "")
                + meant
            )
        bad = [f for f in self.fractions if not 0 < f <= 1]
        if bad:
            raise ConfigError(
                "--fractions must each be a share above 0 and at most 1 (0.5: half the training "
                f"rows); got {bad}"
            )
        if self.seeds < 1:
            raise ConfigError(f"--seeds must be at least 1, got {self.seeds}")
        if self.target_group is not None and self.target_group in self.source_groups:
            raise ConfigError(
                f"--group {self.target_group!r} is also one of --groups: the base model must "
                "not see the target group; take it out of --groups"
            )
        if self.base is None and not self.source_groups:
            raise ConfigError("a study needs --groups A,B (to train a base on) or --base BASE")
        if self.base is None and self.target_group is None:
            raise ConfigError(
                "a base trained on --groups needs a target --group to adapt to: name the "
                "target group, or pass --base to study all samples"
            )
        return StudyConfig(**{**asdict(self), "strategies": tuple(strategies)})

    def digest(self) -> str:
        """Identifies the grid, so a resumed study never mixes points of another one."""
        values = asdict(self)
        if not values["method_options"]:  # studies begun before the option keep their digest
            del values["method_options"]
        body = json.dumps(values, sort_keys=True, default=str)
        return hashlib.sha256(body.encode()).hexdigest()[:16]


@dataclass
class StudyData:
    """What a study uses (kept in memory; never written out): the schema, the source samples
    (None with a given base), the target split once, and what the base saw of the target."""

    schema: Any
    source: Samples | None
    target_train: Samples
    target_test: Samples
    n_seen_by_base: int = 0
    warnings: list[str] = field(default_factory=list)
    # with a given base: the target's samples it never saw (its anticipated R-squared there)
    unseen: Samples | None = None
    # every target sample's label, before any is left out (the outcome's prevalence or spread,
    # as check-data reads it)
    target_labels: Any = None
    # their patients (None: each its own), so that the prevalence counts patients
    target_patients: Any = None


def point_name(strategy: str, fraction: float, seed: int) -> str:
    return f"{strategy}__f{fraction:g}__s{seed}"


def timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    started = time.perf_counter()
    result = fn()
    return result, round(time.perf_counter() - started, 2)


def registered_in_worker(modality: Modality) -> Modality:
    """A worker process knows the built-in modalities; a plug-in one travels with the job."""
    return register(modality)


def strata_fraction(modality: Modality, samples: Samples, fraction: float, seed: int):
    return nested_fraction(np.arange(len(samples)), modality.strata(samples), fraction=fraction,
                           seed=seed, patients=samples.patients())  # fmt: skip
