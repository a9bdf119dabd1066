"""Tables (CSV / Parquet) as a :class:`~medadapt.modalities.base.Modality`.

The backbone is an FT-Transformer with native missing values; the schema (label, task,
feature encodings) is fitted on the training rows; before training, record identifiers are
left out and a feature that alone predicts the label is refused (:mod:`medadapt.data.leaks`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from medadapt.data.missing_codes import parse_missing_codes
from medadapt.data.option_words import COMMAND_LINE
from medadapt.errors import ConfigError, DataError
from medadapt.fileio import sha256_file
from medadapt.modalities.base import UNKNOWN, Modality, Reading, names
from medadapt.modalities.tabular.findings import (
    MISSING_COLUMN,
    coded_columns_warning,
    constant_columns_warnings,
    empty_columns_warning,
    empty_where_trained_warnings,
    missing_per_row,
    missing_rows_warnings,
    refuse_written_numbers,
)
from medadapt.modalities.tabular.model import TRAINING, TabularModelConfig, model_config
from medadapt.modalities.tabular.options import TabularOptions
from medadapt.modalities.tabular.selection import names_any, select_groups

if TYPE_CHECKING:
    import pandas as pd

    from medadapt.data.extrapolation import Outside
    from medadapt.data.schema import TableSchema
    from medadapt.modalities.tabular.samples import TableSamples

# pandas, scipy and torch load on first use (not when the command line starts):
# medadapt.data.{leaks,schema,tables} and this folder's samples/splits are imported in methods.

HEAD = "head.linear"


class TabularModality(Modality):
    kind = "tabular"
    title = "Tables"
    options = TabularOptions
    noun = "rows"
    scope = "tables"
    source_name = "a table"
    sources = "a CSV, TSV or Parquet table"
    defaults = TRAINING
    threads = 1  # small models: one torch thread is faster than two
    needs_label = True
    groups_in_columns = True
    reports_epochs = False  # an epoch takes milliseconds

    #: why an option another modality takes for a verb is not this one's (study: tables keep
    #: early stopping; images' --epochs there trains every model exactly that many)
    instead_of: ClassVar[dict[str, str]] = {
        "epochs": "a study of tables trains each model until its validation loss stops "
        "improving (early stopping), so it takes no --epochs",
    }

    # ----- sources ---------------------------------------------------------------------------
    def recognises(self, data: Path, options: Any) -> bool:
        return Path(data).is_file()  # tables are the fallback: the other modalities go first

    def misread(self, data: Path, options: Any) -> str | None:
        """A CSV whose column holds image file names is a path CSV with its path column named
        otherwise (trained as a table, the names would be dropped as record identifiers);
        not when ``--exclude`` leaves that column out."""
        from medadapt.data.image_sources import image_name_column

        found = image_name_column(Path(data), leave_out=names(options.exclude))
        return None if found is None else found.advice()

    def read_training(self, data: Path, options: Any, reading: Reading) -> TableSamples:
        """The labelled rows of ``reading.groups`` (a schema probed on them: task, classes)."""
        from medadapt.data.missing_codes import read_as_missing
        from medadapt.data.schema import TableSchema, unknown_outcome_warnings
        from medadapt.data.tables import (
            numbers_where_chosen,
            read_table,
            unusable_numbers_warnings,
        )
        from medadapt.modalities.tabular.samples import TableSamples

        text_columns = [reading.id_column, reading.group_column]
        frame = read_table(data, text_columns=text_columns, words=COMMAND_LINE)
        rows = select_groups(frame, reading.group_column, reading.groups,
                             what=reading.groups_flag)  # fmt: skip
        rows = numbers_where_chosen(rows, [*text_columns, *names(options.categorical)])
        probe = TableSchema.infer(rows, **self._schema_options(options, reading))
        notes = unusable_numbers_warnings(frame)  # kept to the model's columns by sample_notes
        labelled = probe.labelled_rows(rows)
        coded = read_as_missing(rows, probe.missing_codes)[probe.label]  # a declared code: none
        said = unknown_outcome_warnings(coded, probe.label, COMMAND_LINE)
        blank = len(rows) - int(coded.notna().sum())  # "unknown" rows are said in `said`
        notes += _unlabelled_notes(probe.label, len(rows), len(rows) - blank) + said
        return TableSamples(labelled, probe, reading.group_column, notes, COMMAND_LINE)

    def fit_schema(
        self, train: TableSamples, options: Any, reading: Reading
    ) -> tuple[TableSchema, list[str]]:
        """The schema fitted on the training rows, after the leak check (warnings: the
        leaks kept with ``--allow-leak``)."""
        from medadapt.data.duplicate_rows import duplicate_rows_warning
        from medadapt.data.feature_kinds import dash_category_warnings, spelling_warnings
        from medadapt.data.group_columns import site_feature_warning
        from medadapt.data.group_units import unit_difference_warnings
        from medadapt.data.leaks import (
            STRONG_LEVEL,
            find_leaks,
            kept_leaks_warnings,
            refuse_leaks,
            strong_features,
        )
        from medadapt.data.missing_codes import (
            read_as_missing,
            sentinel_code_warning,
            sentinel_coded,
            zero_code_warning,
            zero_coded,
        )
        from medadapt.data.schema import (
            TableSchema,
            dichotomised_warning,
            implicit_positive_class,
            untrained_classes_error,
        )

        task = train.schema.task
        schema = TableSchema.infer(
            train.frame, **{**self._schema_options(options, reading), "task": task}
        )
        untrained = [c for c in train.schema.classes if c not in schema.classes]
        if untrained:  # every class of the file must be learnt, and be scorable
            raise DataError(
                untrained_classes_error(schema.label, train.schema.classes, untrained, COMMAND_LINE)
            )
        frame = read_as_missing(train.frame, schema.missing_codes)
        leaks = refuse_leaks(
            find_leaks(schema, frame, group_column=reading.group_column),
            label=schema.label,
            allowed=schema.allowed_leaks,
        )
        schema.strong_features = strong_features(schema, frame)  # adapters' checks read it
        schema.strong_level = STRONG_LEVEL
        # every numeric column, its declared codes read as missing already: a column's other
        # code is still said (a trial's chol=0 kept its 999s unsaid)
        numeric, coded = [f.name for f in schema.numeric_features], set(schema.missing_codes)
        zeros = [zero_code_warning(column, n, len(frame), beside=column in coded)
                 for column, n in zero_coded(frame, numeric).items()]  # fmt: skip
        zeros += [sentinel_code_warning(column, code, n, len(frame), beside=column in coded)
                  for column, (code, n) in sentinel_coded(frame, numeric).items()]  # fmt: skip
        zeros += spelling_warnings(schema.categorical_features)
        zeros += dash_category_warnings(schema.categorical_features, train.frame)
        zeros += unit_difference_warnings(frame, schema, reading.group_column)
        zeros += duplicate_rows_warning(train.frame)
        zeros += [w for w in [site_feature_warning(train.frame, schema, COMMAND_LINE)] if w]
        implicit = implicit_positive_class(schema, COMMAND_LINE)
        chosen = [implicit] if implicit is not None else []
        chosen += dichotomised_warning(train.frame[schema.label], schema, COMMAND_LINE)
        return schema, chosen + kept_leaks_warnings(leaks, schema.label) + zeros + (
            _unneeded_allow_leak(schema, leaks)
        )

    @staticmethod
    def _schema_options(options: TabularOptions, reading: Reading) -> dict[str, Any]:
        return {
            "label": reading.label,
            "task": options.task,
            "positive_above": options.positive_above,
            "positive_class": options.positive_class,
            "id_column": reading.id_column,
            "group_column": reading.group_column,
            "categorical": names(options.categorical),
            "numeric": names(options.numeric),
            "exclude": names(options.exclude),
            "allow_leak": names(options.allow_leak),
            "missing_codes": parse_missing_codes(options.missing_code),
            "words": COMMAND_LINE,
        }

    def read_for_model(
        self,
        data: Path,
        base: Any,
        options: Any,
        *,
        classes: Sequence[str] = (),
        group_column: str | None = None,
        groups: Sequence[str] | None = None,
        **_: Any,  # label (checked against the schema by the verb), hint: images only
    ) -> TableSamples:
        """The file's labelled rows for ``base``; a model column written as text is judged on
        the rows of ``groups`` (of ``group_column``) when given: another site's "pending"
        does not stop an adapter of this one."""
        from medadapt.data.schema import unknown_outcome_said
        from medadapt.data.tables import read_table, unusable_numbers_warnings
        from medadapt.modalities.tabular.samples import TableSamples
        from medadapt.modalities.tabular.selection import rows_of_groups

        schema: TableSchema = base.schema
        frame = read_table(data, text_columns=[schema.id_column, group_column], words=COMMAND_LINE)
        if group_column is not None and group_column not in frame:
            from medadapt.modalities.tabular.selection import group_column_missing

            raise group_column_missing(group_column, frame, groups)
        if schema.label not in frame:
            if len(schema.absent_columns(frame)) * 2 > len(schema.features):  # another model's
                schema.require_columns(frame)  # data (a trial was told to add the label)
            raise DataError(
                f"--data {data} has no label column {schema.label!r} (what the model predicts), "
                "so it cannot be used here; add the outcome column, or use 'medadapt predict' "
                "for predictions without a label"
            )
        schema.require_columns(frame, allow_absent=getattr(options, "allow_absent_columns", False))
        judged, where = rows_of_groups(frame, group_column, groups)
        refuse_written_numbers(schema, judged, data, where=where)
        used = [*(f.name for f in schema.features), schema.label]
        notes = unusable_numbers_warnings(frame, used)
        labelled = schema.labelled_rows(frame)
        if where is not None:  # another site's class the model lacks stops none of this one's
            theirs = ~labelled.index.isin(judged.index)
            labelled = labelled[~theirs | schema.of_known_classes(labelled)]
        ours = frame if where is None else judged  # a group's: other sites' are not its own
        if schema.task == "regression":  # every text value of the rows used, before the split
            schema.measured_labels(labelled[labelled.index.isin(ours.index)])  # (a trial was
            # told of the one in the training part, and nothing of another in the test part)
        n_said, said = unknown_outcome_said(  # "pending": said by its word, not as empty
            ours[schema.label], schema.label,
            f"the file's {len(ours)} rows" if where is None else f"the {len(ours)} rows of {where}",
        )  # fmt: skip
        n_labelled = int(labelled.index.isin(ours.index).sum()) + n_said
        if where is None:
            notes += _unlabelled_notes(schema.label, len(frame), n_labelled, "the file's ")
        else:
            notes += _unlabelled_notes(schema.label, len(judged), n_labelled, where=where)
        notes += [said] if said else []
        samples = TableSamples(labelled, schema, group_column, notes, COMMAND_LINE)
        if group_column is not None:  # a site whose every label is missing: named as such
            from collections import Counter

            from medadapt.data.tables import group_labels

            kept = set(group_labels(labelled[group_column]).tolist())
            every = Counter(group_labels(frame[group_column]).tolist())
            samples.without_labels = {str(g): n for g, n in every.items() if g not in kept}
        return samples

    def read_unlabelled(self, data: Path, base: Any, options: Any) -> TableSamples:
        from medadapt.data.tables import read_table, unusable_numbers_warnings
        from medadapt.modalities.tabular.samples import TableSamples

        schema: TableSchema = base.schema
        frame = read_table(  # identifiers as written: predict may key its rows by one
            data, text_columns=[schema.id_column, schema.group_column, *schema.identifiers],
            words=COMMAND_LINE,
        )  # fmt: skip
        schema.require_columns(frame, allow_absent=getattr(options, "allow_absent_columns", False))
        refuse_written_numbers(schema, frame, data)
        notes = unusable_numbers_warnings(frame, [f.name for f in schema.features])
        return TableSamples(frame, schema, notes=notes, words=COMMAND_LINE)

    def missing_shares(self, schema: TableSchema, samples: TableSamples) -> dict[str, float]:
        """Each feature's share of rows without a value as the model reads them (codes and
        text in a numeric column read as missing: a trial's 'Resting BP' said 28% beside a
        warning that 11 more of its cells were read as missing; a column the table lacks: all
        of them), the largest first."""
        n = len(samples)
        missing = samples.encoded(schema, with_labels=False).missing if n else {}
        shares = {f.name: missing.get(f.name, n) / n if n else 1.0 for f in schema.features}
        return dict(sorted(((k, v) for k, v in shares.items() if v > 0), key=lambda kv: -kv[1]))

    def copies_warning(self, samples: TableSamples, *, held_out: bool = False) -> list[str]:
        """The training (``held_out``: held-out) rows that are exact copies (a trial's site
        file with 30 doubled rows was said at train-base only)."""
        from medadapt.data.duplicate_rows import duplicate_rows_warning

        return duplicate_rows_warning(samples.frame, held_out=held_out)

    def unnamed_patients_warning(self, schema: TableSchema, samples: TableSamples) -> list[str]:
        """Where the base has no id column and ``samples`` hold one named like a record
        identifier whose values repeat: each row is taken as a patient of its own here, so a
        patient's rows may fall on both sides of a split and the intervals are too narrow (a
        trial's repeated visits, three rows a patient, were told "the 220 test rows are
        enough for precise estimates" and a paired gain an id-aware base did not show)."""
        from medadapt.data.identifiers import name_looks_like_identifier

        if schema.id_column is not None:
            return []
        read = {f.name for f in schema.features} | {schema.label, samples.group_column}
        for column in samples.frame.columns:
            if column in read or not name_looks_like_identifier(column):
                continue
            values = samples.frame[column].dropna()
            distinct = values.nunique()
            if 1 < distinct < len(values):
                return [
                    f"column {column!r} looks like a patient id and repeats ({distinct} distinct "
                    f"in {len(values)} rows: several rows per patient?), but the base model was "
                    "trained without --id-column, so each row here is taken as a patient of its "
                    "own: a patient's rows may fall on both sides of a split, and the intervals "
                    f"are too narrow; retrain the base with train-base --id-column {column}"
                ]
        return []

    def sample_notes(
        self, schema: TableSchema, samples: TableSamples, python: bool = False
    ) -> list[str]:
        """What the rows' values say beyond the metrics: infinite numbers in the model's
        columns and text in its numeric features (both read as missing), and zeros far below
        what the model trained on (a "not measured" code, read as a measurement); ``python``:
        the fixes in the Python API's words."""
        from medadapt.data.extrapolation import far_outside_warning
        from medadapt.data.feature_kinds import text_kinds_said
        from medadapt.data.missing_codes import (
            far_below_warning,
            far_code_warning,
        )

        encoded = samples.encoded(schema, with_labels=False)
        used = [*(f.name for f in schema.features), schema.label]
        notes = [note for note in samples.notes if names_any(note, used)]
        for column, n in encoded.text_as_missing.items():
            kinds = text_kinds_said(samples.frame[column]).removesuffix("; ")
            values, are, they = ("value", "is", "it") if n == 1 else ("values", "are", "they")
            notes.append(  # a count per command; its kinds apart (a trial read "(words; of";
                # another "1 text value(s) ... are read as missing: they are a word")
                f"{n} text {values} in numeric column {column!r} of the {len(samples)} rows "
                f"read here {are} read as missing" + (f": {they} {are} {kinds}" if kinds else "")
            )
        empty = empty_columns_warning(schema, samples.frame)
        coded = coded_columns_warning(schema, samples.frame, encoded)
        notes += [said for said in (empty, coded) if said is not None]
        zeros, codes = _codes_here(schema, samples)  # found once, for these and the site's
        far = _far_outside(schema, samples, zeros, codes)
        notes += _site_notes(schema, samples, zeros, codes, far, python)
        notes += missing_rows_warnings(schema, encoded)
        for column, n in zeros.items():
            notes.append(far_below_warning(column, n, len(samples), python))
        for column, (code, n) in codes.items():
            notes.append(far_code_warning(column, code, n, len(samples), python))
        if far:
            specs = {f.name: f for f in schema.numeric_features}
            notes.append(far_outside_warning(far, specs, python))
        return notes + _unseen_notes(schema, samples.frame, encoded.unseen)

    def whole_notes(self, schema: TableSchema, samples: TableSamples) -> list[str]:
        """What is said of the rows as a whole (:func:`_site_notes`), said once of a site's
        rows (a review found ``adapt`` saying it of the training rows, then again of the
        held-out ones)."""
        zeros, codes = _codes_here(schema, samples)
        return _site_notes(schema, samples, zeros, codes,
                           _far_outside(schema, samples, zeros, codes))  # fmt: skip

    def withheld(self, schema: TableSchema, samples: TableSamples, options: Any):
        """The rows lacking more than half of the model's features (missing, or a category it
        never learned): ``predict`` leaves their prediction blank as ``serve`` withholds it
        (a trial's CSV said "No" where the API answered null), unless ``--score-sparse``."""
        from medadapt.modalities.base import Withheld
        from medadapt.modalities.tabular.findings import (
            missing_rows_warnings,
            sparse_rows,
            withheld_rows_warning,
        )

        if getattr(options, "score_sparse", False):
            return None
        encoded = samples.encoded(schema, with_labels=False)
        rows = sparse_rows(schema, encoded)
        if not rows.any():
            return None
        replaced = next((w for w in missing_rows_warnings(schema, encoded)
                         if "more than half of the model's" in w), None)  # fmt: skip
        said = withheld_rows_warning(schema, encoded, rows)
        return Withheld(rows, said, replaced)

    def prediction_flags(self, schema: TableSchema, samples: TableSamples) -> dict[str, list]:
        from medadapt.data.extrapolation import COLUMN, outside_per_row

        return {
            COLUMN: outside_per_row(_far_outside(schema, samples), len(samples)),
            MISSING_COLUMN: missing_per_row(schema, samples.encoded(schema, with_labels=False)),
        }

    def group_values(self, samples: TableSamples, column: str) -> np.ndarray | None:
        from medadapt.data.tables import group_labels

        return group_labels(samples.frame[column]) if column in samples.frame else None

    def ids(self, schema: TableSchema, samples: TableSamples) -> tuple[str, list[Any]] | None:
        """The id column's values; without one, those of a column train-base left out as a
        record identifier (a trial's ``patient_id``, dropped, was not copied, and its
        predictions could be joined back by row number only); else each row's number in the
        file (1: the first row under the header), so that predictions can be joined back."""
        from medadapt.data.feature_kinds import IDENTIFIER_REASON

        column = schema.id_column
        if not (column and column in samples.frame):
            column = next((name for name in schema.identifiers if name in samples.frame and
                           schema.dropped.get(name, "").startswith(IDENTIFIER_REASON)),
                          None)  # fmt: skip
        if column:
            return column, samples.frame[column].tolist()
        return "row", [int(i) + 1 for i in samples.frame.index]

    # ----- models ------------------------------------------------------------------------------
    def new_model(self, schema: TableSchema, options: Any, seed: int):
        from medadapt.backbones.tabular import FTTransformer  # torch: off the CLI start-up

        config = options if isinstance(options, TabularModelConfig) else model_config(options)
        return FTTransformer(
            n_numeric=len(schema.numeric_features),
            cat_cardinalities=[f.cardinality for f in schema.categorical_features],
            d_out=schema.n_outputs,
            **asdict(config),
        )

    def architecture(self, model) -> dict[str, Any]:
        return model.config

    def rebuild(self, architecture: dict[str, Any]):
        from medadapt.backbones.tabular import FTTransformer

        return FTTransformer(**architecture)

    def schema_from_dict(self, data: dict[str, Any]) -> TableSchema:
        from medadapt.data.schema import TableSchema

        return TableSchema.from_dict(data)

    def tensors(self, schema: TableSchema, samples: TableSamples, *, with_labels: bool = True):
        import torch  # off the CLI start-up

        from medadapt.data.tensors import TensorData

        table = samples.encoded(schema, with_labels=with_labels)
        y = table.y if table.y is not None else torch.zeros(len(table), dtype=torch.long)
        return TensorData(table.inputs(), y)

    def family(self, model) -> str:
        return "ft_transformer"

    def heads(self, model) -> tuple[str, ...]:
        return (HEAD,)

    def task(self, schema: TableSchema) -> str:
        return schema.task

    def served_logits(self, model, schema: TableSchema, inputs, adapter_ids, device):
        """Served records (one dict per request's instance), encoded as at training."""
        x_num, x_cat = schema.encode_records(list(inputs))
        return model(x_num=x_num.to(device), x_cat=x_cat.to(device), adapter_ids=list(adapter_ids))

    def scores(self, schema: TableSchema, logits) -> np.ndarray:
        import torch

        if schema.task == "binary":
            return torch.sigmoid(logits[:, 0]).numpy()
        if schema.task == "multiclass":
            return torch.softmax(logits, dim=1).numpy()
        return (logits[:, 0] * schema.label_std + schema.label_mean).numpy()

    def logit_offset(self, schema: TableSchema, scale: str, offset) -> np.ndarray:
        if scale == "regression":  # the head predicts the standardised value
            return np.atleast_1d(np.asarray(offset, dtype=float)) / schema.label_std
        return super().logit_offset(schema, scale, offset)

    def strata(self, samples: TableSamples) -> np.ndarray:
        if samples.schema.task == "regression":
            return np.zeros(len(samples))
        return samples.labels

    def validation_split(self, samples: TableSamples, fraction: float, seed: int):
        """Stratified by the encoded label, keeping a patient's rows (and identical rows) on
        one side: a repeat visit on both sides would stop training late. A table of one row
        per patient splits by row, as the first versions did."""
        from medadapt.data.splits import stratified_split

        encoded = samples.schema.encode_labels(samples.frame, samples.words).numpy()
        return stratified_split(
            encoded, test_fraction=fraction, seed=seed, groups=samples.patients()
        )

    def training_record(self, schema: TableSchema, samples: TableSamples) -> dict[str, Any]:
        labels = schema.encode_labels(samples.frame, samples.words).numpy()
        counts = None
        if schema.task != "regression":
            found = np.bincount(labels.astype(int), minlength=len(schema.classes))
            counts = {c: int(n) for c, n in zip(schema.classes, found, strict=True)}
        groups = None
        if schema.group_column is not None and schema.group_column in samples.frame:
            values = samples.frame[schema.group_column].value_counts()
            groups = {str(k): int(v) for k, v in values.items()}
        return {"n_rows": len(samples), "label_counts": counts, "groups": groups}

    def base_training_extras(self, schema: TableSchema, evaluation, skipped) -> dict[str, Any]:
        return {"dropped_columns": schema.dropped}

    def describe_base(self, schema: TableSchema, base: Any) -> dict[str, Any]:
        return {
            "dropped_columns": schema.dropped,
            "identifiers": schema.identifiers,
            "text_as_missing": schema.text_as_missing,
            "features": {f.name: f.kind for f in schema.features},
        }

    def differs_from_base(self, base: Any, flag: str, value: Any) -> str | None:
        schema: TableSchema = base.schema
        binary_classes = schema.task == "binary" and schema.positive_above is None
        decided = {
            "--task": schema.task,
            "--positive-above": schema.positive_above,
            "--positive-class": schema.classes[-1] if binary_classes else None,
        }.get(flag)  # fmt: skip
        if decided is None:
            return ""
        return None if decided == value else f"{flag} {decided:g}" if isinstance(
            decided, float) else f"{flag} {decided}"  # fmt: skip

    # ----- which rows trained a model ----------------------------------------------------------
    def base_split(self, data, samples, train, test, **extra):
        from medadapt.modalities.tabular import splits

        record = splits.positions(data, samples, train, test, **extra)
        raw, reference = splits.side_file({"train_rows": splits.rows_record(samples.subset(train))})
        return {**record, **reference}, {splits.SPLIT_FILE: raw}

    def adapter_split(self, data, samples, train, test, **extra):
        import hashlib
        import json

        from medadapt.modalities.tabular import splits

        record = splits.positions(data, samples, train, test, **extra)
        record["train_rows"] = splits.rows_record(samples.subset(train))
        raw = json.dumps(record).encode()
        summary = {
            "data_sha256": record["data_sha256"],
            "test_digest": record["test_digest"],
            **extra,
            "positions_file": splits.SPLIT_FILE,
            "positions_sha256": hashlib.sha256(raw).hexdigest(),
        }
        return summary, record, raw

    def read_split(self, directory: Path, summary: dict[str, Any], data: Path, kind: str, samples):
        """The full split of a model (``kind`` "base") or an adapter ("adapter"), with what
        its side file holds; ``"_unknown"`` when that file is not beside it (and not needed:
        the rows it trained on cannot be left out); ``"_unrecognised"``: the model columns
        ``samples`` lack, where without them the rows it trained on cannot be recognised."""
        from medadapt.modalities.tabular import splits

        if kind == "base":
            record = {**summary, **splits.read_side_file(directory, summary)}
            if (
                record.get(UNKNOWN)
                and data is not None
                and Path(data).is_file()
                and (summary.get("data_sha256") == sha256_file(data))
            ):
                record.pop(UNKNOWN)  # the very file: its positions tell the rows
            return splits.noting_unrecognised(record, samples)
        if "positions_file" not in summary:  # a fully fine-tuned model's adaptation
            return summary
        same = summary.get("data_sha256") == sha256_file(data)
        side = splits.read_positions(directory, summary, needed=same)
        if not side:
            return {**summary, "_unknown": True}
        return splits.noting_unrecognised({**summary, **side}, samples)

    def full_model_split(self, base_dir: Path, base: Any, record: dict[str, Any]):
        from medadapt.modalities.tabular import splits

        base_rows = splits.read_side_file(base_dir, base.training.get("split") or {})
        records = {**base_rows, "adapted_rows": record["train_rows"]}
        if records.pop(UNKNOWN, None):  # the base's rows not known: said by every later read
            records[splits.BASE_ROWS_UNKNOWN] = True
        raw, reference = splits.side_file(records)
        return reference, {splits.SPLIT_FILE: raw}

    def inline_split(self, record: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in record.items() if k != "train_rows"}

    def same_source(self, record: dict[str, Any] | None, data: Path, samples) -> bool:
        return bool(record) and record.get("data_sha256") == sha256_file(data)

    def trained_among(self, data: Path, samples: TableSamples, records) -> list[np.ndarray]:
        """By content (the row hashes each split records; a file without the label too),
        and by position on the very file a model trained on."""
        return [self.in_split(data, samples, record, "train") for record in records]

    def in_split(self, data, samples, record, part: str) -> np.ndarray:
        from medadapt.modalities.tabular import splits

        return splits.in_part(data, samples, record, part)

    # ----- evaluation ------------------------------------------------------------------------
    def subgroups(
        self, samples: TableSamples, group_column: str | None, *, by_group=True, extra=()
    ):
        from medadapt.modalities.tabular.samples import subgroup_columns

        return subgroup_columns(samples.frame, group_column=group_column if by_group else None,
                                extra=extra)  # fmt: skip

    def chosen_subgroups(
        self, schema: TableSchema, samples: TableSamples, options, group_column: str | None
    ) -> list[str]:
        from medadapt.modalities.tabular.samples import chosen_subgroups

        return chosen_subgroups(samples.frame, options.subgroup_columns(), label=schema.label,
                                group_column=group_column, id_column=schema.id_column)  # fmt: skip

    def predictions(self, schema: TableSchema, scores: np.ndarray, classes=()) -> dict[str, Any]:
        if schema.task == "binary":
            return {
                f"p_{schema.classes[1]}": scores,
                "predicted": np.where(scores >= 0.5, schema.classes[1], schema.classes[0]),
            }
        if schema.task == "multiclass":
            out: dict[str, Any] = {f"p_{c}": scores[:, i] for i, c in enumerate(schema.classes)}
            out["predicted"] = [schema.classes[i] for i in scores.argmax(axis=1)]
            return out
        return {"predicted": scores}

    def evaluation_extras(self, schema: TableSchema, samples: TableSamples) -> dict[str, Any]:
        encoded = samples.encoded(schema)
        unread = self.unread_columns(schema, samples)
        return {
            "unseen_categories": encoded.unseen,
            "missing_values": {k: v for k, v in encoded.missing.items() if v},
            "absent_columns": schema.absent_columns(samples.frame),
            "renamed_columns": schema.likely_renames(samples.frame),  # names only
            "unread_columns": unread,
            "unread_copies": _unread_copies(schema, samples, unread),  # names and words only
            **_read_as(samples),
        }

    def unread_columns(self, schema: TableSchema, samples: TableSamples) -> list[str]:
        return schema.unread_columns(samples.frame, [samples.group_column])

    def prediction_extras(self, schema: TableSchema, samples: TableSamples) -> dict[str, Any]:
        encoded = samples.encoded(schema, with_labels=False)
        return {
            "unseen_categories": encoded.unseen,
            "missing_values": {k: v for k, v in encoded.missing.items() if v},
            "absent_columns": schema.absent_columns(samples.frame),
            "renamed_columns": schema.likely_renames(samples.frame),  # names only
            "unread_columns": (unread := self.unread_columns(schema, samples)),
            "unread_copies": _unread_copies(schema, samples, unread),  # a label left in the file
            "label_read_not": _label_column(schema.label, samples.frame.columns),
            **_read_as(samples),
        }

    def check_study_target(
        self, schema: TableSchema, target: TableSamples, options: Any, *, given_base: bool = False
    ) -> list[str]:
        """A feature that alone predicts the label on the target group's rows is refused (as
        on the source's: ``--exclude`` when the study trains its base, else retraining the
        given base; or ``--allow-leak``)."""
        return _refuse_leaks_in(schema, target, options, rows="rows of the target group",
                                fix=None if not given_base else GIVEN_BASE_ADVICE)  # fmt: skip

    def n_features(self, schema: TableSchema) -> int:
        return len(schema.features)

    def data_findings(self, schema: TableSchema, source, target_train, target_test):
        from medadapt.modalities.tabular.findings import target_findings

        return target_findings(schema, source, target_train, target_test)

    def check_training_rows(
        self, schema: TableSchema, rows: TableSamples, options: Any, where: str, *,
        judged: str | None = None, fix: str | None = None,
    ) -> list[str]:  # fmt: skip
        """A base feature that alone predicts the label on the rows the adapter trains and is
        tested on is refused (unless kept deliberately). Returns warnings."""
        judged = judged or f"rows adapt trains and tests on ({where})"
        return _refuse_leaks_in(schema, rows, options, fix=fix or ADAPT_ADVICE, rows=judged)

    def names_every_patient(self, samples: TableSamples) -> bool:
        return samples.names_every_patient()

    def kept_leaks(self, schema: TableSchema, rows: TableSamples, options: Any):
        return _kept_leaks(schema, rows, options)

    def taken_within_chance(self, schema: TableSchema, rows: TableSamples, options: Any):
        from medadapt.data.leaks import as_strong_at_base, find_leaks, taken_within_chance
        from medadapt.data.missing_codes import read_as_missing

        frame = read_as_missing(rows.frame, schema.missing_codes)  # judged as the check does
        strong, _ = as_strong_at_base(find_leaks(schema, frame), schema.strong_features)
        allowed = set(_allowed(schema, options, strict=False))  # kept as leaks: said as such
        return taken_within_chance([leak for leak in strong if leak.column not in allowed],
                                   schema.strong_features)  # fmt: skip

    def scored_notes(self, schema: TableSchema, samples: TableSamples) -> list[str]:
        """Model features that alone predict the label on the rows being scored."""
        from medadapt.data.leaks import as_strong_at_base, find_leaks, kept_leaks_warnings

        found = find_leaks(schema, samples.frame)
        _, found = as_strong_at_base(found, schema.strong_features)  # the base relied on those
        return kept_leaks_warnings(found, schema.label, scored=True)


KEEP_IF_GENUINE = "keep {it} with --allow-leak {names} if {genuine} measured before the outcome"
#: what adapt advises (it has no --exclude: the base's features are fixed)
ADAPT_ADVICE = (
    f"{KEEP_IF_GENUINE}, remove {{it}} from --data and pass --allow-absent-columns (the base "
    "model then reads {it} as missing), or retrain the base model without {it} (train-base "
    "--exclude {names})"
)
#: what study --base advises (its --exclude is refused with --base)
GIVEN_BASE_ADVICE = (
    f"{KEEP_IF_GENUINE}, or retrain the base model without {{it}} (train-base --exclude {{names}})"
)


def _kept_leaks(schema: TableSchema, samples: TableSamples, options: Any) -> list[dict[str, Any]]:
    """:meth:`TabularModality.kept_leaks`: the model's and this command's ``--allow-leak``
    columns that alone predict the label on ``samples``, judged as the leak checks judge
    them (missing codes read as missing; over all rows and within each group)."""
    from medadapt.data.leaks import find_leaks
    from medadapt.data.missing_codes import read_as_missing

    allowed = set(_allowed(schema, options, strict=False))  # after train-base: a column it
    # dropped (constant, excluded ...) may be named, and keeps nothing
    frame = read_as_missing(samples.frame, schema.missing_codes)
    found = find_leaks(schema, frame, group_column=samples.group_column)
    return [leak.to_json() for leak in found if leak.column in allowed]


def _refuse_leaks_in(
    schema: TableSchema, samples: TableSamples, options: Any, *, fix: str | None, rows: str
) -> list[str]:
    """Refuse the model features that alone predict the label on ``samples`` (those kept
    with the model's or this command's ``--allow-leak`` are warnings)."""
    from medadapt.data.leaks import (
        as_strong_at_base,
        find_leaks,
        kept_leaks_warnings,
        refuse_leaks,
        strong_at_base_warnings,
    )
    from medadapt.data.missing_codes import read_as_missing

    frame = read_as_missing(samples.frame, schema.missing_codes)
    allowed = _allowed(schema, options)
    strong, found = as_strong_at_base(find_leaks(schema, frame), schema.strong_features)
    found += [leak for leak in strong if leak.column in allowed]  # kept as asked, and said so
    strong = [leak for leak in strong if leak.column not in allowed]
    leaks = refuse_leaks(found, label=schema.label, fix=fix, rows=rows, allowed=allowed,
                         at_base=schema.strong_features,
                         at_base_level=schema.strong_level)  # fmt: skip
    # kept by this command's --allow-leak, or by the base's own (a trial's client, given
    # none, read "kept because of --allow-leak")
    given = set(names(getattr(options, "allow_leak", None)))
    here = [leak for leak in leaks if leak.column in given]
    at_base = [leak for leak in leaks if leak.column not in given]
    return (
        kept_leaks_warnings(here, schema.label)
        + kept_leaks_warnings(at_base, schema.label, keep=BASE_KEPT_IT)
        + strong_at_base_warnings(strong, schema.strong_features, schema.label, rows=rows)
    )


#: (a base is trained by train-base or by federate simulate --base-groups: a trial's
#: simulate-made base read "chosen at train-base")
BASE_KEPT_IT = "the base model's --allow-leak (chosen when the base was trained)"


def _unneeded_allow_leak(schema: TableSchema, leaks: Sequence[Any]) -> list[str]:
    """That the ``--allow-leak`` columns the leak check did not flag needed no flag (a trial
    named four, was told of two, and not whether the other two had been kept, or why); a
    named column the model does not read (dropped as constant, empty or excluded) is said
    to be so (a review: it was said to be used "as any other feature")."""
    from medadapt.data.leaks import UNNEEDED_FLAG

    flagged, features = {leak.column for leak in leaks}, {f.name for f in schema.features}
    unneeded = [c for c in schema.allowed_leaks if c not in flagged and c in features]
    unread = [c for c in schema.allowed_leaks if c not in features]
    out = []
    if unneeded:
        one = len(unneeded) == 1
        out.append(f"--allow-leak {', '.join(map(repr, unneeded))}: "
                   f"{'it does' if one else 'they do'} not alone predict {schema.label!r} on "
                   f"these training rows (the leak check did not flag {'it' if one else 'them'}"
                   f"), so the model uses {'it' if one else 'them'} as any other feature: "
                   f"{UNNEEDED_FLAG}")  # fmt: skip
    if unread:
        one = len(unread) == 1
        out.append(f"--allow-leak {', '.join(map(repr, unread))}: the model does not read "
                   f"{'it' if one else 'them'} (not among its features: dropped as constant, "
                   "empty, an identifier or excluded), so the flag changes nothing")  # fmt: skip
    return out


def _allowed(schema: TableSchema, options: Any, *, strict: bool = True) -> list[str]:
    """The model's and this command's ``--allow-leak`` columns; with ``strict`` (the checks of
    the rows an adapter trains on), a name given that is none of the model's inputs is
    refused (a typo kept nothing, without a word)."""
    given = names(getattr(options, "allow_leak", None))
    if strict:
        refuse_unknown_leak_names(schema, given, "--allow-leak ")
    return [*schema.allowed_leaks, *given]


def refuse_unknown_leak_names(schema: TableSchema, given: Sequence[str], said_as: str) -> None:
    """Refuse a column named to keep (``--allow-leak``, ``allow_leak=``) that is none of the
    base model's inputs, with the name meant (a typo kept nothing, without a word);
    ``said_as``: how the message starts ("--allow-leak ", "allow_leak: ")."""
    from medadapt.checks import did_you_mean

    inputs = [spec.name for spec in schema.features]
    for name in given:
        if name not in inputs:
            hint = did_you_mean(name, inputs) or "; name one of them, or drop it"
            raise ConfigError(f"{said_as}{name!r} is not an input of the base model (its "
                              f"inputs: {', '.join(inputs)}){hint}")  # fmt: skip


def _spelt_otherwise(
    schema: TableSchema, frame: pd.DataFrame, unseen: dict[str, int]
) -> dict[str, dict[str, Any]]:
    """``{column: {"rows": n, "learned": category}}`` for unseen values that differ from a
    learned category only in upper/lower case ("male" for "Male"): a coding slip, not a new
    category. Only the model's own category is named, never the file's value."""
    from medadapt.data.feature_kinds import is_missing, learned_spelling, level

    out: dict[str, dict[str, Any]] = {}
    for spec in schema.categorical_features:
        if not unseen.get(spec.name) or spec.name not in frame:
            continue
        spelt = (learned_spelling(spec.categories, level(v))
                 for v in frame[spec.name].tolist() if not is_missing(v))  # fmt: skip
        slips = [learned for learned in spelt if learned is not None]
        if slips:
            out[spec.name] = {"rows": len(slips), "learned": slips[0]}
    return out


def _label_column(label: str, columns: Sequence[Any]) -> str | None:
    """The column of ``columns`` that holds the label: its own name, else the same name in
    other case (a trial's ``Malignant`` for ``malignant`` was said to be an unread column)."""
    if label in columns:
        return label
    return next((str(c) for c in columns if str(c).casefold() == str(label).casefold()), None)


def _unlabelled_notes(
    label: str, n_rows: int, n_labelled: int, whose: str = "", where: str | None = None
) -> list[str]:
    """How many of ``n_rows`` rows were left out for want of an outcome (a count only;
    ``whose``: "the file's " where the rows are the whole file; ``where``: the groups they
    are, ``site = East``, where a group was chosen)."""
    from medadapt.data.schema import unlabelled_note

    note = unlabelled_note(label, n_rows, n_labelled, whose, where=where)
    return [] if note is None else [note]


def _kind_slipped(
    schema: TableSchema, frame: pd.DataFrame, unseen: dict[str, int]
) -> dict[str, tuple[int, str]]:
    """``{column: (rows, kind)}`` for unseen values written as another kind of value than
    the model learned (``1`` for true/false, a number for text: :mod:`.kind_slips`, as
    ``serve`` notes them)."""
    from medadapt.modalities.tabular.kind_slips import column_kind_slips

    out = {}
    for spec in schema.categorical_features:
        if unseen.get(spec.name) and spec.name in frame:
            slips = column_kind_slips(list(spec.categories), frame[spec.name].tolist())
            if slips is not None:
                out[spec.name] = slips
    return out


def _unseen_notes(schema: TableSchema, frame: pd.DataFrame, unseen: dict[str, int]) -> list[str]:
    """Per categorical feature, the rows whose value the model never learned (rare in its
    training rows, or coded otherwise: 0/1 for 'Female'/'Male'), scored as "unseen", in the
    same words on the command line, in the reports and in the Python API; values written in
    another case, or as another kind of value, are said to be (as ``serve`` says them)."""
    from medadapt.modalities.tabular.kind_slips import column_kind_slip_note

    spelt = _spelt_otherwise(schema, frame, unseen)
    kinds = _kind_slipped(schema, frame, unseen)
    categories = {spec.name: list(spec.categories) for spec in schema.categorical_features}
    notes = []
    for column, n in unseen.items():
        note = (
            f"{n} of {len(frame)} rows {'has' if n == 1 else 'have'} {_a(column)} {column!r} "
            "value the model never learned (rare in its training rows, or coded otherwise) and "
            f"{'is' if n == 1 else 'are'} scored as 'unseen'"
        )
        if column in spelt:
            note += (f"; {spelt[column]['rows']} of them differ from a category it learned only "
                     f"in upper/lower case (e.g. {spelt[column]['learned']!r}): recode {column!r} "
                     "as in training")  # fmt: skip
        elif column in kinds:
            note += "; " + column_kind_slip_note(column, categories[column], *kinds[column])
        elif n >= CODED_OTHERWISE_ROWS and 2 * n > len(frame):  # 'M' for 'Male', it may be
            note += (f"; {'every row' if n == len(frame) else 'most rows'}: the model learned "
                     f"{_learned(schema, column)}; if these are those written otherwise, "
                     f"recode {column!r} as in training (if they are other categories, the "
                     "model cannot use them)")  # fmt: skip
        notes.append(note)
    return notes


def _a(column: str) -> str:
    """The article before quoted column name ``column``: "an 'exang' value", "a 'sex' value"
    (by its first letter: a vowel is taken to be said as one)."""
    return "an" if str(column)[:1].casefold() in ("a", "e", "i", "o", "u") else "a"


#: rows with unseen values, and more than half of them, before a column is said to be coded
#: otherwise (one row of a rare category in a one-row predict is not)
CODED_OTHERWISE_ROWS = 20


def _learned(schema: TableSchema, column: str, shown: int = 6) -> str:
    """The categories the model learned for ``column`` (its own, never a file's values)."""
    [spec] = [spec for spec in schema.categorical_features if spec.name == column]
    names = [repr(str(c)) for c in spec.categories]
    more = f" and {len(names) - shown} more" if len(names) > shown else ""
    return ", ".join(names[:shown]) + more


def _codes_here(schema: TableSchema, samples: TableSamples) -> tuple[dict, dict]:
    """Zeros far below, and codes such as -1 or 999 far outside, the model's training values
    in ``samples`` (:func:`~medadapt.data.missing_codes.zeros_far_below`,
    :func:`~medadapt.data.missing_codes.codes_far_outside`), the model's declared codes read
    as missing first: a column with one code declared still has another said (a trial's
    ``chol=0`` base met 999s at a site, said only as values far outside)."""
    from medadapt.data.missing_codes import codes_far_outside, read_as_missing, zeros_far_below

    frame = read_as_missing(samples.frame, schema.missing_codes)
    return (zeros_far_below(frame, schema.numeric_features),
            codes_far_outside(frame, schema.numeric_features))  # fmt: skip


def _site_notes(
    schema: TableSchema,
    samples: TableSamples,
    zeros: Any,
    codes: Any,
    far: Outside,
    python: bool = False,
) -> list[str]:
    """Columns the model dropped where it trained (one value in every training row, or empty
    in all) that these rows hold other values in; a feature outside the training range in a
    quarter of the rows or more; a measured outcome unlike the base's. Values the per-row
    warnings name (``zeros``, ``codes``: "not measured" codes; ``far``: far outside) are
    left to them."""
    from medadapt.data.extrapolation import outcome_shift_warning, range_shift_warning
    from medadapt.data.missing_codes import read_as_missing

    frame = samples.frame
    coded = {column: code for column, (code, _) in codes.items()}
    shifted = range_shift_warning(read_as_missing(frame, schema.missing_codes),
                                  schema.numeric_features, zeros, coded, far.outside,
                                  python)  # fmt: skip
    outcome = None
    if schema.task == "regression" and schema.label in frame:  # another outcome or unit?
        outcome = outcome_shift_warning(frame[schema.label], schema.label, schema.label_mean,
                                        schema.label_std)  # fmt: skip
    return [*constant_columns_warnings(schema, frame),
            *empty_where_trained_warnings(schema, frame),
            *(said for said in (shifted, outcome) if said)]  # fmt: skip


def _far_outside(
    schema: TableSchema, samples: TableSamples, zeros_said: Any = None, codes_said: Any = None
) -> Outside:
    """Per numeric feature with such rows: which rows lie far outside its training values
    (:mod:`medadapt.data.extrapolation`), missing codes read as missing first; zeros and codes
    such as 999 the missing-code warnings name (``zeros_said``, ``codes_said``: ``{column:
    (code, rows)}``, found here when not given) are left to them."""
    from medadapt.data.extrapolation import far_outside
    from medadapt.data.missing_codes import read_as_missing

    if zeros_said is None or codes_said is None:
        zeros_said, codes_said = _codes_here(schema, samples)
    frame = read_as_missing(samples.frame, schema.missing_codes)
    codes = {column: code for column, (code, _) in codes_said.items()}
    return far_outside(frame, schema.numeric_features, zeros_said, codes)


def _read_as(samples: TableSamples) -> dict[str, str]:
    """How the file was read where it is not a plain CSV (``read_as``, as ``train-base``
    says it), for ``adapt``, ``evaluate`` and ``predict`` to say too; ``{}`` otherwise."""
    said = samples.reading_note()
    return {"read_as": said} if said else {}


def _unread_copies(schema: TableSchema, samples: TableSamples, unread: list[str]) -> dict[str, str]:
    """Of the ``unread`` columns, each that copies the label in the rows of ``samples``, with
    how in words (:func:`medadapt.data.leaks.unread_copies`)."""
    from medadapt.data.leaks import unread_copies

    return unread_copies(schema, samples.frame, unread)
