"""The one seam between medadapt's stages and a kind of data (tables, images, ...).

Every stage (train-base, adapt, evaluate, predict, study, the reports, the registry and the
server) is written once over two small abstractions:

* :class:`Samples`: labelled samples read from a source and checked against a model's
  schema: their labels, groups, patient keys (what must stay on one side of a split) and
  content keys (what recognises a sample in another file), and a way to take a subset;
* :class:`Modality`: what differs between kinds of data: reading and validating a source,
  building the backbone, turning samples into tensors, the default adapter targets (the
  backbone's family), splitting by patient, recording which samples trained a model, turning
  logits into scores, and optional hooks (new classes for classifiers that can grow).

A base model records its modality (``model.json``'s ``kind``) and every later stage looks it
up here. A new modality is one folder implementing these two classes plus one
:func:`register` call.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from medadapt.errors import ConfigError, DataError
from medadapt.modalities.samples import (  # noqa: F401  (re-exported: a modality's vocabulary)
    EPOCHS_HELP,
    PATIENCE_HELP,
    ModalityOptions,
    Reading,
    Samples,
    TrainingDefaults,
    flag_of,
    names,
    unset,
)

if TYPE_CHECKING:
    from torch import nn

Progress = Callable[[str], None] | None


UNRECOGNISED = "_unrecognised"
"""A split record's key, once read for some data: the model columns that data lacks, without
which the samples the model trained on cannot be recognised in it (``evaluate`` warns)."""
UNKNOWN = "_unknown"
"""A split record's key, once read for some data: the side file holding which samples the model
trained on (``split.json``) is not beside it (a registry's or an imported copy), and the data
is another file than the one it trained on: those samples cannot be recognised in it."""
RECODED = "_recoded"
"""A split record's key, once read for some data: the model's categorical columns whose values
are, in most of that data's rows, none the model learned (recoded since training: yes/no for
true/false): a training row recoded so is not recognised by content (``evaluate`` warns)."""


@dataclass(frozen=True)
class Withheld:
    """The samples ``predict`` leaves without a prediction (``rows``: a mask), the warning
    saying so, and the warning it replaces (the one that said their predictions were made;
    None where none did)."""

    rows: np.ndarray
    warning: str
    replaces: str | None = None


#: what an adapter with no group is adapted to, as its card's intended use says
ADAPTED_TO = "the patients of the data it was adapted on"


class Modality(ABC):
    """What differs between kinds of data; see the module docstring. The abstract methods
    are the protocol; the others have defaults a modality may override."""

    kind: ClassVar[str]  # recorded as the base model's kind ("tabular", "image", ...)
    title: ClassVar[str]  # its panel in --help ("Tables", "Images")
    options: ClassVar[type[ModalityOptions]]
    noun: ClassVar[str] = "samples"  # "rows", "images": how sentences count samples
    unit: ClassVar[str] = "patient"  # what a metric's note counts ("image" for images)
    scope: ClassVar[str] = "samples"  # "an option applies to ..." ("tables", "image data")
    source_name: ClassVar[str] = "samples"  # "--data X is ..." ("a table", "image data")
    sources: ClassVar[str] = "its data"  # "... or pass ..." (what --data may be for it)
    defaults: ClassVar[TrainingDefaults]
    intended_use: ClassVar[str] = (  # {target}: what the adapter was adapted to
        "Research use: adaptation of an existing model to {target}; validate locally before "
        "any clinical use."
    )
    base_test_stays_clean: ClassVar[bool] = False  # base's held-out samples never train adapters
    batch_size: ClassVar[int] = 512  # samples per forward pass when scoring
    threads: ClassVar[int | None] = None  # torch threads for its commands (None: torch's)
    study_base_per_seed: ClassVar[bool] = True  # a study trains one base per seed (cheap ones)
    study_workers: ClassVar[int | None] = None  # study processes (None: every core)
    caches_frozen_features: ClassVar[bool] = False  # frozen blocks run once (ViTs: head, top K)
    # --label names the outcome column: required to train and to adapt (with the group), and
    # checked against the column the base model predicts
    needs_label: ClassVar[bool] = False
    # a group is always a column of --data (a table's site column): data without the column
    # an adapter's group was recorded in cannot say which samples are that group's (where
    # only some sources have columns, an image CSV, lacks_group_column says which)
    groups_in_columns: ClassVar[bool] = False
    reports_epochs: ClassVar[bool] = True  # the progress line shows each epoch's losses
    #: why this modality takes no such option, by option name (said where another
    #: modality's option is refused): what decides that setting here instead
    instead_of: ClassVar[dict[str, str]] = {}

    # ----- sources -------------------------------------------------------------------------
    @abstractmethod
    def recognises(self, data: Path, options: Any) -> bool:
        """Whether ``data`` is a source of this modality (cheap: no heavy reading)."""

    def misread(self, data: Path, options: Any) -> str | None:
        """Why ``data``, which this modality recognises, is likely meant for another (a table
        whose column holds image file names is a path CSV), in words that name the fix; None
        when it is not (the default). Cheap, as :meth:`recognises`."""
        return None

    def probe_for_model(self, manifest: dict[str, Any], options: Any) -> Any:
        """``options`` to recognise data by for a model of this modality (``manifest``: its
        ``model.json``), completed with what the model recorded of how its data was read (an
        image base's ``--path-column``); as they are by default."""
        return options

    def not_recognised(self, data: Path, options: Any) -> str | None:
        """Why ``data``, meant for a model of this modality, is not recognised as its data,
        where a likely slip explains it (an image CSV without the ``--path-column`` it names),
        as one sentence with the flag that fixes it; None when nothing more specific is known."""
        return None

    @abstractmethod
    def read_training(self, data: Path, options: Any, reading: Reading) -> Samples:
        """The labelled samples of ``reading.groups`` to train a new base on."""

    @abstractmethod
    def fit_schema(self, train: Samples, options: Any, reading: Reading) -> tuple[Any, list[str]]:
        """The schema fitted on the training samples, after the modality's checks; and the
        warnings to print."""

    @abstractmethod
    def read_for_model(self, data: Path, base: Any, options: Any, **how: Any) -> Samples:
        """Labelled samples for the base model ``base``, read as its schema says (``how``:
        ``classes``, ``group_column``, ``groups``: the groups the command will use, where a
        check of the file is judged on their rows)."""

    @abstractmethod
    def read_unlabelled(self, data: Path, base: Any, options: Any) -> Any:
        """Samples to predict (no labels needed)."""

    # ----- models ------------------------------------------------------------------------------
    @abstractmethod
    def new_model(self, schema: Any, options: Any, seed: int) -> nn.Module:
        """An untrained backbone with a head for ``schema``."""

    @abstractmethod
    def rebuild(self, architecture: dict[str, Any]) -> nn.Module:
        """The (untrained) module a saved architecture describes."""

    @abstractmethod
    def schema_from_dict(self, data: dict[str, Any]) -> Any: ...

    @abstractmethod
    def architecture(self, model: nn.Module) -> dict[str, Any]: ...

    @abstractmethod
    def tensors(self, schema: Any, samples: Any, *, with_labels: bool = True) -> Any:
        """Model inputs and targets (a :class:`~medadapt.data.tensors.TensorData`)."""

    @abstractmethod
    def family(self, model: nn.Module) -> str:
        """The backbone family the adapter presets target ("ft_transformer", "timm_vit")."""

    @abstractmethod
    def heads(self, model: nn.Module) -> tuple[str, ...]:
        """The head modules an adapter gets its own copy of."""

    @abstractmethod
    def task(self, schema: Any) -> str:
        """binary | multiclass | regression."""

    @abstractmethod
    def scores(self, schema: Any, logits: Any) -> np.ndarray:
        """The model's outputs as scores (probabilities, or values for regression)."""

    @abstractmethod
    def training_record(self, schema: Any, samples: Samples) -> dict[str, Any]:
        """Counts a base model records about its training samples (never values)."""

    def model_record(self, options: Any, model: nn.Module) -> dict[str, Any]:
        """What a base model records about how it was built (backbone, weights file ...)."""
        return {}

    def task_scores(self, schema: Any, scores: np.ndarray) -> np.ndarray:
        """What the metrics take: P(positive) (N,) for binary, (N, K) multiclass, values."""
        return scores

    def loss_task(self, schema: Any) -> str:
        """The task whose loss trains the model (by default the schema's)."""
        return self.task(schema)

    def logit_offset(self, schema: Any, scale: str, offset: np.ndarray) -> np.ndarray:
        """What to add to the head's bias so that the model's scores move by ``offset`` on
        ``scale`` (a recalibration in the large: "binary", the logit of P(positive);
        "classes", each class's log-probability; "regression", the value)."""
        outputs = self.loss_task(schema)  # binary: one logit (sigmoid); multiclass: softmax
        if (scale, outputs) in (("binary", "binary"), ("classes", "multiclass")):
            return np.atleast_1d(np.asarray(offset, dtype=float))
        raise ConfigError(
            f"recalibrating a {self.kind} model's {scale} scores is not supported: choose "
            "another --personalise"
        )

    def classes(self, schema: Any) -> list[str]:
        return list(getattr(schema, "classes", []))

    def only_class(self, schema: Any, labels: Any) -> str | None:
        """The class a classifier's ``labels`` all name, when they hold a single one (None
        when they hold more or none, or for regression). An adapter trained on such samples
        learns to call everyone that class, and nothing among them could show it."""
        if self.task(schema) == "regression":
            return None
        present = np.unique(np.asarray(labels))
        return self.classes(schema)[int(present[0])] if len(present) == 1 else None

    def one_class_words(self, schema: Any, only: str) -> str:
        """ "only one class of 'num' ('1')" (images: "only one class ('normal')")."""
        label = getattr(schema, "label", None)
        return f"only one class of {label!r} ({only!r})" if label else f"only one class ({only!r})"

    def outcome_words(self, data: Path) -> str:
        """What reads ``data``'s outcome, for a message asking to check it (a site of one
        class): a table's ``--label`` column."""
        return "--label (the outcome read)"

    # ----- splits ------------------------------------------------------------------------------
    def strata(self, samples: Samples) -> np.ndarray:
        """What a split stratifies by (class labels)."""
        return np.asarray(samples.labels)

    def validation_split(
        self, samples: Samples, fraction: float, seed: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """Training and early-stopping samples (by default stratified, by patient)."""
        from medadapt.data.splits import stratified_split  # scikit-learn: off the CLI start-up

        return stratified_split(
            self.strata(samples), test_fraction=fraction, seed=seed, groups=samples.patients()
        )

    def patient_split(
        self, samples: Samples, chosen: np.ndarray, fraction: float, seed: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """Train and test indices (into ``samples``) among ``chosen``, stratified, keeping
        each patient's samples on one side."""
        from medadapt.data.splits import stratified_split

        chosen = np.asarray(chosen, dtype=np.int64)
        train, test = stratified_split(
            self.strata(samples)[chosen],
            test_fraction=fraction,
            seed=seed,
            groups=np.asarray(samples.patients())[chosen],
        )
        return chosen[train], chosen[test]

    # ----- which samples trained a model -------------------------------------------------------
    @abstractmethod
    def base_split(self, data: Path, samples: Samples, train, test, **extra: Any):
        """``(record for model.json, {side file name: bytes})`` of a base model's split."""

    @abstractmethod
    def adapter_split(self, data: Path, samples: Samples, train, test, **extra: Any):
        """``(summary for adapter.json, full record, split.json bytes)`` of an adapter's."""

    @abstractmethod
    def read_split(self, directory: Path, summary: dict[str, Any], data: Path, kind: str,
                   samples: Samples) -> dict[str, Any]:  # fmt: skip
        """A recorded split with what its side file holds (``kind``: "base" or "adapter");
        ``"_unknown": True`` when an adapter's side file is missing and not needed."""

    @abstractmethod
    def same_source(self, record: dict[str, Any] | None, data: Path, samples: Samples) -> bool:
        """Whether ``data`` is the very source ``record`` was made on."""

    @abstractmethod
    def in_split(self, data: Path, samples: Samples, record: dict[str, Any] | None,
                 part: str) -> np.ndarray:  # fmt: skip
        """Per sample: in ``record``'s ``part`` ("train"/"test") (by content, or position)."""

    def near_copies(self, data: Path, samples: Samples, records: Sequence[dict[str, Any] | None],
                    candidates: np.ndarray) -> np.ndarray | None:  # fmt: skip
        """Per sample: whether it looks like a near-identical copy (a lossy re-save) of a
        training sample of ``records``, judged for the indices ``candidates`` only; None
        where the modality records nothing to tell (exact matches are :meth:`in_split`'s)."""
        return None

    def near_copies_among(self, samples: Samples, train: np.ndarray,
                          test: np.ndarray) -> np.ndarray | None:  # fmt: skip
        """Per index of ``test``: whether that sample looks like a near-identical copy of one
        of ``train`` (both indices into ``samples``); None as :meth:`near_copies`."""
        return None

    # ----- evaluation and predictions ----------------------------------------------------------
    def patient_column(self, samples: Samples) -> str | None:
        """The column of ``--data`` that named the patients of ``samples`` (never its
        values), recorded with an adapter; None where none did."""
        return None

    def copies_warning(self, samples: Samples, *, held_out: bool = False) -> list[str]:
        """A warning where training ``samples`` (``held_out``: held-out ones) hold exact
        copies of one another (an export that doubled rows); empty where none, or where the
        modality says so when reading."""
        return []

    def unnamed_patients_warning(self, schema: Any, samples: Samples) -> list[str]:
        """A warning where ``samples`` hold a column that names patients, with repeats, which
        the model was trained without (so each sample is taken as a patient of its own);
        empty where none does or the modality cannot tell."""
        return []

    def patients_unnamed(self, samples: Samples) -> bool:
        """Whether nothing in ``samples`` names patients, so that each sample is counted as a
        patient of its own (False where the modality cannot tell)."""
        return False

    def names_every_patient(self, samples: Samples) -> bool:
        """Whether every sample of ``samples`` names its patient (a patient column's value, a
        DICOM PatientID): False where any stands in for its own patient, or none is named."""
        return False

    def unnamed_patient_samples(self, samples: Samples) -> int:
        """How many of ``samples`` name no patient, each counted as a patient of its own (0
        where the modality cannot tell): some only where a folder mixes DICOM files that
        carry a PatientID with pictures that carry none."""
        return 0

    def patients_fix(self, column: str) -> str:
        """How to give ``--data`` the patients of recorded patient column ``column``."""
        return f"to count patients, add column {column!r} (each sample's patient) to --data"

    def patients_forgotten(
        self, samples: Samples, column: str | None, whose: str, *, split: bool = False
    ) -> list[str]:
        """A warning when ``whose`` (the base model, an adapter) was trained with its samples
        grouped by patient (its patient column ``column``) but nothing in ``samples`` names a
        patient (:meth:`patients_unnamed`): each sample is then taken for a patient of its
        own, so a patient's several samples make the intervals too narrow and, where they are
        ``split`` (``adapt``, ``check-data``), may fall on both sides of the split."""
        if not column or not self.patients_unnamed(samples):
            return []
        noun = self.noun
        sides = (f"a patient's {noun} may fall on both sides of the split (flattering the "
                 "held-out figures) and " if split else "")  # fmt: skip
        # which ones, where split: a trial's adapt counted "8 of these 44 images" seen by the
        # base, then "each of the 41 images" (those trained and tested on) without saying so
        these = f"{len(samples)} {noun} to train and test on" if split else f"{len(samples)} {noun}"
        return [
            f"{whose} was trained with its {noun} grouped by patient (column {column!r}), but "
            f"--data names no patient: each of the {these} is counted as an "
            f"independent patient, so {sides}the 95% intervals may be too narrow where a "
            f"patient has several {noun}; {self.patients_fix(column)}"
        ]

    def subgroups(
        self,
        samples: Samples,
        group_column: str | None,
        *,
        by_group: bool = True,
        extra: Sequence[str] = (),
    ) -> dict[str, np.ndarray]:
        """Subgroups reported per metric (by default the group column, unless not
        ``by_group``: an adapter's test set is one group); ``extra``: the columns
        :meth:`chosen_subgroups` accepted (a modality without columns has none)."""
        if samples.groups is None or not by_group:
            return {}
        return {group_column or "group": np.asarray(samples.groups, dtype=str)}

    def chosen_subgroups(
        self, schema: Any, samples: Samples, options: Any, group_column: str | None
    ) -> list[str]:
        """The columns ``options`` asks the metrics by (``--subgroups``), checked against
        ``samples`` before any scoring: a modality without columns takes none."""
        return []

    def per_class(self) -> bool:
        """Whether evaluations list one row per class (one-vs-rest)."""
        return False

    @abstractmethod
    def predictions(self, schema: Any, scores: np.ndarray, classes: Sequence[str]) -> dict:
        """The prediction columns written by ``predict`` (``p_<class>``..., ``predicted``)."""

    def ids(self, schema: Any, samples: Any) -> tuple[str, list[Any]] | None:
        """``(column name, one id per sample)`` written first by ``predict`` (or None)."""
        return None

    def trained_among(
        self, data: Path, samples: Any, records: list[Any]
    ) -> list[np.ndarray] | None:
        """Per split of ``records`` (as :meth:`read_split` reads them), per sample to predict
        (``samples`` as :meth:`read_unlabelled` reads them): whether the model of that split
        trained on it; None where this modality cannot tell for samples without labels."""
        return None

    def group_values(self, samples: Any, column: str) -> np.ndarray | None:
        """Each sample's value of group column ``column`` as text (None: not in the source)."""
        return None

    def lacks_group_column(self, samples: Any, column: str) -> bool:
        """Whether ``samples`` come from data that has columns but none named ``column`` (the
        group column an adapter recorded, renamed in this file): nothing then tells its
        groups apart. By default, where groups are always columns (:attr:`groups_in_columns`),
        when :meth:`group_values` finds none; False where the data has no columns to tell."""
        return self.groups_in_columns and self.group_values(samples, column) is None

    def sample_notes(self, schema: Any, samples: Any) -> list[str]:
        """Warnings about the samples' values (read as missing, ...)."""
        return list(getattr(samples, "notes", []))

    def whole_notes(self, schema: Any, samples: Any) -> list[str]:
        """What :meth:`sample_notes` says of ``samples`` as a whole rather than of some of them
        (images: that they look unlike the base's training images on the whole), so that a
        caller saying it of one part of a site's samples need not say it again of another
        (``adapt``'s training and held-out images). None by default."""
        return []

    def scored_notes(self, schema: Any, samples: Samples) -> list[str]:
        """Warnings about the samples being scored (a feature that leaks the label ...)."""
        return []

    def missing_shares(self, schema: Any, samples: Any) -> dict[str, float]:
        """``{input: share of the samples without it}`` for the model's inputs missing in some
        of ``samples`` (a count summary, never a value); empty where inputs cannot be
        missing (images)."""
        return {}

    def evaluation_extras(self, schema: Any, samples: Samples) -> dict[str, Any]:
        """More an evaluation reports about the samples (counts only)."""
        return {}

    def prediction_extras(self, schema: Any, samples: Any) -> dict[str, Any]:
        """More ``predict`` reports about the samples (counts only)."""
        return {}

    def unread_columns(self, schema: Any, samples: Any) -> list[str]:
        """The columns of the samples' source the model does not read (names only; none
        where a source has no columns)."""
        return []

    def withheld(self, schema: Any, samples: Any, options: Any) -> Withheld | None:
        """The samples whose prediction ``predict`` leaves blank, as ``serve`` withholds
        theirs (None: it predicts every one)."""
        return None

    def prediction_flags(self, schema: Any, samples: Any) -> dict[str, list[Any]]:
        """Per-sample columns ``predict`` writes after the predictions: what makes a
        prediction less trustworthy (tables: the features far outside the training values)."""
        return {}

    def study_strategies(self, candidates: Sequence[str]) -> tuple[str, ...]:
        """The study strategies this modality offers among ``candidates``."""
        return tuple(candidates)

    def check_study_target(
        self, schema: Any, target: Samples, options: Any, *, given_base: bool = False
    ) -> list[str]:
        """Refuse a study's target samples (training and held-out) that would mislead it
        (``given_base``: a base given with ``--base``, not trained by the study); warnings."""
        return []

    def n_features(self, schema: Any) -> int | None:
        """Input features, for the events-per-feature rule (None: not meaningful here)."""
        return None

    def data_findings(self, schema: Any, source, target_train, target_test) -> list[tuple]:
        """Findings about the data beyond class counts: ``(code, level, message, numbers)``."""
        return []

    def kept_leaks(self, schema: Any, rows: Samples, options: Any) -> list[dict[str, Any]]:
        """The inputs kept deliberately (``--allow-leak``) although each alone predicts the
        label on ``rows`` (the samples a model or an adapter was trained and tested on), as
        the model records them: name, statistic and row count, never a value. Every later
        result on the model repeats them."""
        return []

    def taken_within_chance(self, schema: Any, rows: Samples, options: Any) -> list[dict[str, Any]]:
        """The inputs that alone predict the label on ``rows`` better than where the base
        trained, taken for the base's strong predictors only because so few rows cannot tell
        them from it (not refused, as a leak would be): recorded with the adapter, as
        :meth:`kept_leaks` are, so that every later result repeats the caution."""
        return []

    def check_training_rows(self, schema: Any, rows: Samples, options: Any, where: str, *,
                            judged: str | None = None, fix: str | None = None):  # fmt: skip
        """Refuse the samples an adapter trains and is tested on (``rows``: both, so that a
        small training set is judged on every sample of its group) that cannot train it or
        would flatter it; returns warnings. ``judged``: which rows, in the message (default:
        ``adapt``'s rows at ``where``); ``fix``: the advice, in the caller's flags (default:
        ``adapt``'s). By default, that they name no patient where the base model grouped its
        samples by patient (:meth:`patients_forgotten`)."""
        column = getattr(schema, "id_column", None)
        return self.patients_forgotten(rows, column, "the base model", split=True)

    def split_extras(self, options: Any) -> dict[str, Any]:
        """More a split records about how the source was read (an ``.npz``'s split ...)."""
        return {}

    def base_training_extras(
        self, schema: Any, evaluation: dict[str, Any], skipped: list[dict[str, str]]
    ) -> dict[str, Any]:
        """More a base model's training record keeps (dropped columns, skipped files ...)."""
        return {}

    def describe_base(self, schema: Any, base: Any) -> dict[str, Any]:
        """What ``train-base`` reports about the new model beyond its metrics."""
        return {}

    def differs_from_base(self, base: Any, flag: str, value: Any) -> str | None:
        """Whether an option that shapes a new base (``--task`` ...), given with an existing
        ``base``, asks for something else than the base decided: None where it agrees (the
        same choice given again), else the base's own setting in flag words (``--task
        binary``), or "" where the model keeps no single value to compare with."""
        return ""

    def full_model_split(self, base_dir: Path, base: Any, record: dict[str, Any]):
        """``(reference kept in training["split"], {side file: bytes})`` for a fully
        fine-tuned model's adaptation split (by default nothing beside the model)."""
        return {}, {}

    def inline_split(self, record: dict[str, Any]) -> dict[str, Any]:
        """What a fully fine-tuned model keeps of its adaptation split in ``model.json``."""
        return record

    def grown_schema(self, schema: Any, classes: Sequence[str]) -> Any:
        return schema

    def inputs_seen(self, schema: Any, train: Samples) -> dict[str, Any] | None:
        """What an adapter's training samples were like beyond what the base model saw
        (images: their shapes and DICOM kinds), recorded with the adapter (summaries only);
        None: nothing to add."""
        return None

    def with_inputs_seen(self, schema: Any, seen: dict[str, Any] | None) -> Any:
        """``schema`` widened by what an adapter trained on (:meth:`inputs_seen`), so that
        scoring through the adapter does not warn about inputs like its training ones."""
        return schema

    def served_logits(self, model: nn.Module, schema: Any, inputs: Sequence[Any],
                      adapter_ids: Sequence[str | None], device: Any) -> Any:  # fmt: skip
        """Logits of one served micro-batch: ``inputs`` as the modality's request parser gives
        them (default: tensors shaped as the schema says), each through its adapter."""
        import torch

        x = torch.stack(list(inputs)).to(device, non_blocking=True)  # (B, C, *spatial)
        return model(x, adapter_ids=list(adapter_ids))

    # ----- optional hooks ----------------------------------------------------------------------
    def can_grow(self) -> bool:
        """Whether adapters may add output classes (``--new-classes``)."""
        return False

    def grown_classes(self, schema: Any, new_classes: Sequence[str]) -> list[str]:
        if new_classes:
            raise ConfigError(
                f"--new-classes applies to classifiers that can grow, not {self.kind}"
            )
        return self.classes(schema)


_REGISTRY: dict[str, Modality] = {}


def register(modality: Modality) -> Modality:
    """Make ``modality`` known to every stage (by its ``kind``); returns it."""
    _REGISTRY[modality.kind] = modality
    return modality


def registered() -> list[Modality]:
    """Every registered modality (the built-in ones register when ``medadapt.modalities`` is
    imported, which importing this module does first)."""
    return list(_REGISTRY.values())


def modality_of(kind: str) -> Modality:
    """The modality of a base model's ``kind``."""
    for modality in registered():
        if modality.kind == kind:
            return modality
    raise DataError(
        f"no modality {kind!r} is registered (known: {', '.join(_REGISTRY) or 'none'}); "
        "install or register it"
    )


def modality_for_data(
    data: Path, options: dict[str, ModalityOptions], *, refuse_misread: bool = True
) -> Modality:
    """The modality whose sources ``data`` looks like (the first that recognises it; the
    most general, tables, last). Data that modality finds likely meant for another
    (:meth:`Modality.misread`: a path CSV whose path column is named otherwise) is refused,
    naming the fix, rather than read silently as the wrong kind; unless ``refuse_misread`` is
    False (data for a given model, whose kind decides)."""
    for modality in sorted(registered(), key=lambda m: m.kind == "tabular"):
        if modality.recognises(data, options[modality.kind]):
            why = modality.misread(data, options[modality.kind]) if refuse_misread else None
            if why is not None:
                raise DataError(f"--data {data}: {why}")
            return modality
    raise ConfigError(f"--data {data}: no modality recognises it")
