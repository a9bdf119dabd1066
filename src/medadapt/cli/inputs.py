"""What a command checks about its inputs before any work: ``--data`` exists, the base model
is readable and of the data's modality, no output lands on an input."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

from medadapt.errors import ConfigError, DataError, MedadaptError
from medadapt.modalities.base import Modality, modality_of, registered

__all__ = [
    "check_name_length",
    "check_not_an_input",
    "check_not_inside",
    "check_outputs",
    "check_predictions_name",
    "methods",
    "modality_of_base",
    "reference_text",
    "refuse_bare_url",
    "registered",
    "require_data",
]


def reference_text(data: Path | str) -> str:
    """``--data`` as typed: the command line made a path of it, which folds a URL's ``//``
    (``dicomweb+http://pacs/...`` arrives as ``dicomweb+http:/pacs/...``, ``http://pacs/...``
    as ``http:/pacs/...``).

    >>> reference_text(Path("dicomweb+http://pacs/dicom-web")), reference_text(Path("http://p/x"))
    ('dicomweb+http://pacs/dicom-web', 'http://p/x')
    """
    text = str(data)
    match = re.match(r"(?i)((?:dicomweb\+)?https?):/+", text)
    return f"{match.group(1)}://{text[match.end() :]}" if match else text


def refuse_bare_url(data: Path | str) -> None:
    """Refuse a PACS address given to ``--data`` without its ``dicomweb+`` prefix (read as a
    path, it "does not exist"), shown without ``user:password@``.

    >>> refuse_bare_url(Path("http://u:pw@pacs/dicom-web/studies/1.2"))
    Traceback (most recent call last):
    ...
    medadapt.errors.ConfigError: --data http://pacs/dicom-web/studies/1.2: a PACS address needs \
the dicomweb+ prefix: --data dicomweb+http://USER:PASSWORD@pacs/dicom-web/studies/1.2 (your \
user:password@ as you wrote it)
    """
    text = reference_text(data)
    if not re.match(r"(?i)https?://", text):
        return
    shown = re.sub(r"(?i)^(https?://)[^/@]*@", r"\1", text)  # never a password
    fix = f"dicomweb+{shown}"
    if shown != text:  # a trial pasted the fix without its credentials: a 401
        fix = re.sub(r"(?i)^(dicomweb\+https?://)", r"\1USER:PASSWORD@", fix)
        fix += " (your user:password@ as you wrote it)"
    raise ConfigError(f"--data {shown}: a PACS address needs the dicomweb+ prefix: --data {fix}")


def require_data(data: Path) -> None:
    """``--data`` must exist before anything else is said about it (a PACS reference reaches
    here only in the commands that cannot read one; a web address without ``dicomweb+`` is
    said to lack it)."""
    from medadapt.data.dicomweb import is_reference, parse_reference

    refuse_bare_url(data)
    text = reference_text(data)
    if is_reference(text):
        raise ConfigError(
            f"--data {parse_reference(text)}: this command does not read from a PACS (train-base, "
            "adapt, evaluate and predict do); fetch the images to a folder and pass that"
        )
    if not data.exists():
        raise DataError(f"--data {data} does not exist; check the path{_example_hint(data)}")


EXAMPLE_DATA = "heart.csv"  # the README's examples read the bundled heart data from it
EXAMPLE_COMMAND = (
    'python -c "import shutil, medadapt.data.heart as h; shutil.copy(h.bundled_path(), '
    "'heart.csv')\""
)


def _example_hint(data: Path) -> str:
    """For the README's ``heart.csv`` only: how to write the bundled copy of it here."""
    if data.name != EXAMPLE_DATA:
        return ""
    return f" (the README's example data: write it here with {EXAMPLE_COMMAND})"


def check_not_inside(out: Path, source: Path, flag: str) -> None:
    """An output must not be written into (or over) an input: ``--out`` inside ``--data``
    would add the model to the images it was trained on."""
    out_abs, source_abs = out.resolve(), source.resolve()
    if out_abs == source_abs:
        what = "folder" if source_abs.is_dir() else "file"
        raise ConfigError(f"--out {out} is the {flag} {what} itself; write outputs somewhere else")
    if source_abs.is_dir() and source_abs in out_abs.parents:
        raise ConfigError(f"--out {out} is inside {flag} {source}; write outputs somewhere else")


#: bytes an output's name grows by in the temporary name it is first written under
#: (``.NAME.tmp-XXXXXXXX`` beside it, see :mod:`medadapt.fileio`)
_TEMPORARY_NAME = 14


def _name_max(path: Path) -> int:
    """The longest file name (in bytes) the file system holding ``path`` takes (255 where
    the system does not say)."""
    folder = path.absolute()
    while not os.path.exists(folder) and folder != folder.parent:  # a long name: False
        folder = folder.parent
    try:
        return os.pathconf(folder, "PC_NAME_MAX")
    except (AttributeError, OSError, ValueError):
        return 255


def check_name_length(path: Path | None, flag: str) -> None:
    """Refuse, before any work, an output whose name (or a folder's on its way) is longer
    than the file system takes: writing it would fail only once the work is done."""
    if path is None:
        return
    most = _name_max(path)
    parts = path.parts
    for i, part in enumerate(parts):
        size = len(os.fsencode(part))
        limit = most - _TEMPORARY_NAME if i == len(parts) - 1 else most
        if size > limit and part != path.anchor:
            shown = part if len(part) <= 40 else f"{part[:20]}...{part[-12:]}"
            why = (f"this file system takes {most} per name, less {_TEMPORARY_NAME} for the "
                   "temporary name written first") if limit < most else (
                   "this file system's limit per name")  # fmt: skip
            raise ConfigError(
                f"{flag}: the name {shown!r} is {size} bytes long; at most {limit} fit here "
                f"({why}); give {flag} a shorter name"
            )


#: the suffixes ``predict --out`` writes a table as (any other would be CSV text misnamed)
PREDICTION_SUFFIXES = (".csv", ".tsv", ".parquet", ".pq")


def check_predictions_name(out: Path) -> None:
    """``predict --out`` names a .csv, .tsv or .parquet file: the suffix says how the table is
    written, and any other (``.xlsx``, ``.json``, none) would hold CSV text under its name."""
    if out.suffix.lower() not in PREDICTION_SUFFIXES:
        raise ConfigError(
            f"--out {out}: predictions are written as .csv, .tsv or .parquet; name the file so "
            f"(e.g. --out {out.with_name(out.stem + '.csv').name})"
        )


def check_not_an_input(outputs: dict[str, Path | None], inputs: dict[str, Path | None]) -> None:
    """No output may replace an input file or land inside a model directory (even with
    ``--force``: it would destroy what the command reads); no output's name is too long to
    write."""
    for out_flag, out in outputs.items():
        if out is None:
            continue
        check_name_length(out, out_flag)
        target = out.resolve()
        for in_flag, source in inputs.items():
            if source is None:
                continue
            origin = source.resolve()
            if target == origin:
                raise ConfigError(
                    f"{out_flag} {out} would overwrite {in_flag} {source}; write it elsewhere"
                )
            if origin.is_dir() and origin in target.parents:
                what = (f"would overwrite {target.relative_to(origin)} in" if target.exists()
                        else "is inside")  # fmt: skip
                raise ConfigError(f"{out_flag} {out} {what} {in_flag} {source}; write it elsewhere")


def check_outputs(
    files: dict[str, Path | None],
    sources: dict[str, Path | None],
    out: tuple[str, Path | None] | None = None,
) -> None:
    """Before any work, even with ``--force``: no two outputs are one path, no output file
    lands in (or is) the directory ``out`` (``(flag, path)``) the command writes and replaces,
    no input lies inside that directory, and no output (``out`` included) replaces or enters
    an input."""
    named = {flag: path for flag, path in files.items() if path is not None}
    seen: dict[Path, str] = {}
    for flag, path in named.items():
        target = path.resolve()
        if target in seen:
            raise ConfigError(
                f"{flag} {path} is also the {seen[target]} file; give each output its own name"
            )
        seen[target] = flag
    if out is not None and out[1] is not None:
        out_flag, folder = out
        root = folder.resolve()
        for flag, path in named.items():
            target = path.resolve()
            if target == root:
                raise ConfigError(
                    f"{flag} {path} is also the {out_flag} directory; give each output its own name"
                )
            if root in target.parents:
                raise ConfigError(
                    f"{flag} {path} is inside {out_flag} {folder}, which the command writes; "
                    "write it elsewhere"
                )
        for flag, source in sources.items():
            if source is not None and root in source.resolve().parents:
                raise ConfigError(
                    f"{out_flag} {folder} holds {flag} {source}, which writing {out_flag} would "
                    f"replace; choose another {out_flag}"
                )
        named[out_flag] = folder  # nor is the directory itself an input, or inside one
    check_not_an_input(named, sources)


def base_kind(base: Path) -> str:
    """The modality ``--base`` records (one-line errors naming ``--base`` otherwise)."""
    manifest = base / "model.json"
    if not base.exists():
        raise DataError(
            f"--base {base} does not exist; check the path (a base model is the folder "
            "'medadapt train-base --out' wrote: train one first)"
        )
    if base.is_file():  # a trial's --base base/model.json: "holds no model.json"
        folder = f"pass its folder, --base {base.parent}" if base.name == "model.json" else (
            "point --base at a directory written by 'medadapt train-base'")  # fmt: skip
        raise DataError(f"--base {base} is a file, not a base model's folder: {folder}")
    if not manifest.is_file():
        from medadapt.modalities.bundle import base_folder_hint  # torch: on this error only

        raise DataError(f"--base {base} holds no model.json: {base_folder_hint(base, '--base')}")
    try:
        kind = json.loads(manifest.read_text()).get("kind")
    except (json.JSONDecodeError, UnicodeDecodeError, AttributeError):
        raise DataError(
            f"--base {base}: model.json is not valid JSON (truncated or edited); copy the base "
            "model again"
        ) from None
    if kind not in [m.kind for m in registered()]:
        raise DataError(f"--base {base}: model.json is not a medadapt base model")
    return kind


def group_column_of_base(values: dict[str, Any], base: Path) -> str | None:
    """``--group`` without ``--group-column``: the group column the base model records
    (``train-base --group-column``), set in ``values`` and returned, for the verb to say (a
    trial was asked for a column the base already names). None where the base records none
    (the verb then asks for ``--group-column`` as before) or the column was given."""
    if not values.get("group") or values.get("group_column"):
        return None
    recorded = recorded_group_column(base)
    if recorded is None:
        return None
    values["group_column"] = recorded
    return recorded


def recorded_group_column(base: Path) -> str | None:
    """The group column the base model records (``train-base --group-column``), else None."""
    recorded = _recorded_schema(base).get("group_column")
    return recorded if isinstance(recorded, str) and recorded else None


def _recorded_schema(base: Path) -> dict[str, Any]:
    """The schema ``base/model.json`` records; empty where it cannot be read (a base not
    checked yet: its own refusal comes later, naming --base)."""
    try:
        schema = json.loads((base / "model.json").read_text()).get("schema")
    except (OSError, ValueError, AttributeError):
        return {}
    return schema if isinstance(schema, dict) else {}


def refuse_id_as_group(values: dict[str, Any], base: Path) -> None:
    """``--group-column`` naming the base's patient id column (``train-base --id-column``): a
    trial's ``evaluate --group-column patient_id --all-groups`` was told its subgroup table
    was withheld "to give no count away", not that the column names patients."""
    column = values.get("group_column")
    if column and column == _recorded_schema(base).get("id_column"):
        raise ConfigError(
            f"--group-column {column} is the base model's patient id column (train-base "
            "--id-column): a group per patient says nothing of a site; name a column of sites "
            "or groups, or leave --group-column out"
        )


def modality_of_base(base: Path, data: Path, probes: dict[str, Any]) -> Modality:
    """The base model's modality; data that another modality recognises (``probes``: the
    options each modality reads its data with) is refused, naming both."""
    from medadapt.modalities.base import modality_for_data

    modality = modality_of(base_kind(base))
    manifest = json.loads((base / "model.json").read_text())  # base_kind read it: it is JSON
    probes = {**probes, modality.kind: modality.probe_for_model(manifest, probes[modality.kind])}
    detected = modality_for_data(data, probes, refuse_misread=False)  # the base decides
    if detected is not modality:
        why = modality.not_recognised(data, probes[modality.kind])
        if why:
            raise DataError(why)
        raise DataError(
            f"--base {base} is a model for {modality.scope}, but --data {data} is not "
            f"{modality.source_name} (it reads as {detected.source_name}): pass "
            f"{modality.sources}, or a --base trained on {detected.scope}"
        )
    return modality


#: what a model that is not binary predicts, in the words of a refusal
_PREDICTS = {"multiclass": "one of several classes", "regression": "a measured value"}


def check_threshold_applies(base: Path, adapter: Path | None, modality: Modality) -> None:
    """``--threshold`` sets the operating point of a binary outcome's sensitivity and
    specificity; for a model of several classes or of a measured value it would be ignored
    without a word. The adapter's recorded task counts (it may add classes), else the base's;
    a file that cannot be read is left to the loaders, whose errors say why."""
    task = None
    try:
        if adapter is not None:
            task = json.loads((adapter / "adapter.json").read_text())["metadata"].get("task")
        if task not in ("binary", *_PREDICTS):
            schema = json.loads((base / "model.json").read_text())["schema"]
            task = modality.task(modality.schema_from_dict(schema))
    except (OSError, ValueError, KeyError, TypeError, AttributeError, MedadaptError):
        return
    if task in _PREDICTS:
        raise ConfigError(
            f"--threshold applies to a binary outcome (the operating point for sensitivity and "
            f"specificity); this model predicts {_PREDICTS[task]}: leave --threshold out"
        )


def method_options(method: str, text: str | None) -> dict[str, Any]:
    """``--adapter-options`` read for ``--method`` (checked before any work)."""
    from medadapt.adapters.methods import FULL_TAKES_NO_OPTIONS, parse_method_options

    if method == "full" and text:
        raise ConfigError(FULL_TAKES_NO_OPTIONS)
    return {} if method == "full" else parse_method_options(method, text)


def methods() -> tuple[str, ...]:
    """The ``--method`` choices: every registered adapter method, and ``full``."""
    from medadapt.adapters.methods import method_names

    return (*method_names(), "full")


def method_cased(given: Any) -> Any:
    """``--method`` as the choices spell it where it differs only in case or spaces (a
    trial's ``--method LoRA``, as the README names the method, was refused); else as given,
    for the check to refuse.

    >>> method_cased("LoRA"), method_cased(" DoRA "), method_cased("lora2")
    ('lora', 'dora', 'lora2')
    """
    return cased(given, methods())


def cased(given: Any, choices: Any) -> Any:
    """``given`` as ``choices`` spell it where it differs only in case or surrounding spaces
    (``--strategy FedAvg``: a trial's was refused where ``--method LoRA`` was taken); else as
    given, for the check to refuse.

    >>> cased("FedAvg", ("fedavg", "fedprox")), cased("fedavgg", ("fedavg",))
    ('fedavg', 'fedavgg')
    """
    if not isinstance(given, str):
        return given
    return next((c for c in choices if c.casefold() == given.strip().casefold()), given)
