"""The table-only options of the shared verbs (flags ``--task``, ``--d-token`` ...)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from medadapt import checks
from medadapt.data.missing_codes import parse_missing_codes
from medadapt.errors import ConfigError
from medadapt.modalities.base import EPOCHS_HELP, PATIENCE_HELP, ModalityOptions
from medadapt.results import TASKS

TRAIN, ADAPT, EVALUATE, PREDICT, STUDY = "train-base", "adapt", "evaluate", "predict", "study"
CHECK = "check-data"


def _option(help: str, *verbs: str, default=None):
    return field(default=default, metadata={"help": help, "verbs": verbs})


@dataclass(frozen=True)
class TabularOptions(ModalityOptions):
    """Options that apply to tables only; each names the verbs that take it."""

    task: str | None = _option("binary | multiclass | regression (inferred).", TRAIN, STUDY)
    positive_above: float | None = _option(
        "Binary label = numeric label > this value (e.g. 0 for 'num > 0').", TRAIN, STUDY
    )
    positive_class: str | None = _option(
        "Which value of a two-valued label is the outcome to detect (e.g. Disease of "
        "Disease/Healthy): what sensitivity and the predicted probability are about. Default: "
        "yes of no/yes, 1 of 0/1, true, positive, present; else the value that sorts last, "
        "with a warning. Kept with the model.",
        TRAIN,
        STUDY,
    )
    categorical: str | None = _option("Columns to treat as categorical.", TRAIN, STUDY)
    numeric: str | None = _option("Columns to treat as numeric.", TRAIN, STUDY)
    exclude: str | None = _option("Columns to leave out.", TRAIN, STUDY)
    allow_leak: str | None = _option(
        "Keep these columns although each alone predicts the label almost perfectly "
        "(refused otherwise: a copy of the label, or recorded after the outcome).",
        TRAIN,
        ADAPT,
        STUDY,
    )
    missing_code: str | None = _option(
        "Numbers that mean 'not measured', read as missing: COL=VALUE,... (e.g. chol=0; a "
        "column named twice has two codes: chol=0,chol=-9); kept with the model, so every "
        "later command reads them the same way.",
        TRAIN,
        STUDY,
    )
    epochs: int | None = _option(EPOCHS_HELP, TRAIN, ADAPT)
    patience: int | None = _option(PATIENCE_HELP, TRAIN, ADAPT)
    d_token: int | None = _option("Token width (default 64; the paper's 192).", TRAIN)
    n_blocks: int | None = _option("Transformer blocks (default 2; the paper's 3).", TRAIN)
    n_heads: int | None = _option("Attention heads (default 4).", TRAIN)
    allow_absent_columns: bool = _option(
        "Score even when feature columns the model uses are absent (missing for every row) "
        "instead of refusing.",
        ADAPT,
        CHECK,
        EVALUATE,
        PREDICT,
        default=False,
    )

    subgroups: str | None = _option(
        "Also report the metrics per value of these columns (e.g. sex,age_band,ethnicity), "
        "each a column of a few categories (at most 12 values; band a measurement first): "
        "one row per value, the small ones withheld as every subgroup's are.",
        EVALUATE,
    )
    score_sparse: bool = _option(
        "Also predict a row lacking more than half of the model's features (missing, or a "
        "category it never learned); by default its prediction is left blank, as serve "
        "withholds it.",
        PREDICT,
        default=False,
    )

    def subgroup_columns(self) -> list[str]:
        return checks.names(self.subgroups, "--subgroups")

    def check(self, verb: str, *, label: str | None = None, **context: Any) -> TabularOptions:
        """Each value in range and the column lists consistent, by flag (before any work)."""
        checks.one_of(self.task, "--task", TASKS)
        checks.at_least(self.epochs, "--epochs")
        checks.at_least(self.patience, "--patience")
        if self.task not in (None, "binary") and self.positive_above is not None:
            raise ConfigError(
                f"--positive-above makes a binary label, but --task is {self.task}; drop one of "
                "them"
            )
        if self.positive_class is not None:
            if not self.positive_class.strip():
                raise ConfigError(
                    "--positive-class is empty; name the label value that is the outcome to "
                    "detect, or leave it out"
                )
            if self.positive_above is not None:
                raise ConfigError(
                    "--positive-class and --positive-above both say which label values are "
                    "positive; give one of them"
                )
            if self.task not in (None, "binary"):
                raise ConfigError(
                    f"--positive-class chooses the positive class of a two-valued label, but "
                    f"--task is {self.task}; drop one of them"
                )
        lists = {
            flag: checks.names(value, flag)
            for flag, value in (
                ("--categorical", self.categorical),
                ("--numeric", self.numeric),
                ("--exclude", self.exclude),
                ("--allow-leak", self.allow_leak),
            )
        }
        subgroups = self.subgroup_columns()
        twice = sorted({name for name in subgroups if subgroups.count(name) > 1})
        if twice:
            raise ConfigError(
                f"--subgroups names {', '.join(map(repr, twice))} more than once; name each "
                "column once"
            )
        both = set(lists["--categorical"]) & set(lists["--numeric"])
        if both:
            raise ConfigError(
                f"{', '.join(sorted(both))} given to both --categorical and --numeric; choose one"
            )
        lists["--missing-code"] = list(parse_missing_codes(self.missing_code))
        for flag, columns in lists.items():
            if (
                label is not None
                and label in columns
                and flag not in ("--allow-leak", "--missing-code")
            ):
                raise ConfigError(f"{flag} names the label {label!r}; the label is never a feature")
        for flag, value in (
            ("--d-token", self.d_token),
            ("--n-blocks", self.n_blocks),
            ("--n-heads", self.n_heads),
        ):
            checks.at_least(value, flag)
        d_token, n_heads = self.d_token or 64, self.n_heads or 4
        if d_token % n_heads:
            raise ConfigError(
                f"--d-token {d_token} must be a multiple of --n-heads {n_heads} (each head gets "
                "an equal share of the token)"
            )
        return self
