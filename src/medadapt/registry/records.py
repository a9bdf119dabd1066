"""What the registry records about one adapter version (and what adding, importing and
exporting one return), and how it reads a manifest's metadata.

The adapt workflow writes a free-form ``metadata`` dict into each adapter manifest. The registry
reads only summaries from it (``data_summary``, ``metrics``, ``task``, ``intended_use``,
``base_model``, ``limitations``), each defensively (any may be missing or oddly shaped), and
refuses an adapter whose metadata looks row-level (per-case lists such as ids, labels or scores,
lists of records, very long lists or strings): adapters travel to other hospitals, and patient
rows must never travel with them.
"""

from __future__ import annotations

import math
import re
import shlex
from dataclasses import asdict, dataclass
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any, NamedTuple

from medadapt.errors import ConfigError, MedadaptError
from medadapt.results import CHANCE_READING, FEWER_THAN_BASE, AdapterRecord, reaches_chance


class RegistryError(MedadaptError, RuntimeError):
    """A registry operation cannot be done as asked (unknown version, protected version...)."""


def other_base_note(v: AdapterVersion, other: AdapterVersion, which: str, then: str) -> str:
    """``note: va@2 adapts another base model (547306ac9412) than va@1{which} (00492a9b0546):
    {then}``, said where a version of a name adapts another base than one of its own name
    (``registry add``/``import``, ``promote``): a patient's answer can change with it."""
    mine, theirs = v.base_fingerprint["weights"][:12], other.base_fingerprint["weights"][:12]
    return f"note: {v.ref} adapts another base model ({mine}) than {other.ref}{which} " + (
        f"({theirs}): {then}")  # fmt: skip


def command_line(root: str | Path, command: str = "") -> str:
    """``medadapt registry --root ROOT COMMAND``: a command a registry message suggests,
    runnable as printed (``ROOT`` quoted where a shell needs it).

    >>> command_line("my registry", "gc --min-age 0")
    "medadapt registry --root 'my registry' gc --min-age 0"
    """
    return f"medadapt registry --root {shlex.quote(str(root))} {command}".rstrip()


# Registry names are loaded as adapter names (AdapterModel.load_adapter(dir, name=...)), so they
# follow the same rule as medadapt.adapters.model.check_adapter_name.
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_\-]{0,63}")
_REF = re.compile(r"(?P<name>[^@]+)(?:@(?P<sel>\d+|latest|promoted))?")
_PREFIXED = re.compile(r"(?P<name>[^@]+)@[vV](?P<version>\d+)")  # "va@v1": the card's "va v1"

MAX_LIST_ITEMS = 1024
"""Longest list the registry accepts anywhere in adapter metadata."""
MAX_PER_CASE_ITEMS = 16
"""Longest list of records (dicts), or under a per-case name (ids, labels, scores...)."""
MAX_TEXT_CHARS = 20_000
"""Longest string the registry accepts in adapter metadata."""
_PER_CASE = re.compile(
    r"(^|_)(ids?|rows?|records?|patients?|mrns?|subjects?|cases|samples|predictions?|preds?"
    r"|scores?|probs|probabilities|labels|y|y_true|y_pred|y_score|y_prob)$",
    re.IGNORECASE,
)


def check_name(name: str) -> str:
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise ConfigError(
            f"registry name {name!r} is invalid: use 1-64 letters, digits, '_' or '-', "
            "starting with a letter or digit"
        )
    return name


@dataclass(frozen=True)
class Ref:
    """A parsed version reference: ``name``, ``name@3``, ``name@latest``, ``name@promoted``.

    ``selector`` is ``"default"`` for a bare name: the promoted version if one is promoted,
    else the latest.
    """

    name: str
    version: int | None = None
    selector: str = "exact"

    @property
    def explicit(self) -> bool:
        return self.selector in ("exact", "latest")

    def __str__(self) -> str:
        if self.selector == "exact":
            return f"{self.name}@{self.version}"
        return self.name if self.selector == "default" else f"{self.name}@{self.selector}"


SHOWN_CHARS = 64  # a name, group or field a message repeats is cut to this many characters


def shown(text: Any) -> str:
    """``repr(text)`` for a message, cut when long: a request's 100,000-character name must
    not come back whole (nor a patient's details pasted into it)."""
    text = str(text)
    if len(text) <= SHOWN_CHARS:
        return repr(text)
    return f"{text[:SHOWN_CHARS]!r}... ({len(text):,} characters)"


REF_FORMS = "NAME, NAME@N, NAME@latest or NAME@promoted (e.g. pneumonia@3)"
"""The forms of a version reference, as every refusal of another one lists them."""


def parse_ref(text: str) -> Ref:
    """A version reference as the registry's commands and ``serve`` read it: ``NAME`` (the
    promoted version, else the newest), ``NAME@N`` (version N, a number as the registry
    numbers them), ``NAME@latest``, ``NAME@promoted``. Anything else is refused with one line
    listing these; ``NAME@vN`` (the card's and the archive's "NAME vN") names the form to
    write.

    >>> parse_ref("pneumonia@3"), parse_ref("pneumonia").selector
    (Ref(name='pneumonia', version=3, selector='exact'), 'default')
    >>> parse_ref("pneumonia@v3")
    Traceback (most recent call last):
    ...
    medadapt.errors.ConfigError: version reference 'pneumonia@v3' is invalid: versions are \
plain numbers, write pneumonia@3 (the forms: NAME, NAME@N, NAME@latest or NAME@promoted)
    """
    stripped = text.strip() if isinstance(text, str) else None
    prefixed = _PREFIXED.fullmatch(stripped) if stripped is not None else None
    if prefixed is not None and _NAME.fullmatch(prefixed["name"]):
        raise ConfigError(
            f"version reference {shown(text)} is invalid: versions are plain numbers, write "
            f"{prefixed['name']}@{int(prefixed['version'])} (the forms: "
            f"{REF_FORMS.removesuffix(' (e.g. pneumonia@3)')})"
        )
    match = _REF.fullmatch(stripped) if stripped is not None else None
    if match is None or not _NAME.fullmatch(match["name"]):
        raise ConfigError(f"version reference {shown(text)} is invalid: use {REF_FORMS}")
    sel = match["sel"]
    if sel is None:
        return Ref(match["name"], None, "default")
    if sel in ("latest", "promoted"):
        return Ref(match["name"], None, sel)
    version = int(sel)
    if version < 1:
        raise ConfigError(f"version numbers start at 1, got {text!r}")
    return Ref(match["name"], version, "exact")


# ----- metadata --------------------------------------------------------------------------------
def check_summary_only(metadata: Any, where: str) -> None:
    """Refuse metadata that looks row-level: lists under per-case names (``patient_ids``,
    ``y_score``...) or of records beyond :data:`MAX_PER_CASE_ITEMS`, any list beyond
    :data:`MAX_LIST_ITEMS`, strings beyond :data:`MAX_TEXT_CHARS`. Per-epoch curves and
    other short summaries pass."""

    def refuse(path: str, what: str) -> RegistryError:
        return RegistryError(
            f"{where}: metadata '{path}' is {what}, which looks like row-level data (the "
            "registry keeps only summaries: counts, rates, metrics); save the adapter without it"
        )

    def walk(value: Any, path: str, key: str) -> None:
        if isinstance(value, dict):
            for k, item in value.items():
                walk(item, f"{path}.{k}" if path else str(k), str(k))
        elif isinstance(value, list | tuple):
            n = len(value)
            records = sum(isinstance(item, dict) for item in value)
            per_case = _PER_CASE.search(key) is not None or records > MAX_PER_CASE_ITEMS
            if n > MAX_LIST_ITEMS or (per_case and n > MAX_PER_CASE_ITEMS):
                raise refuse(path, f"a list of {n} items")
            for i, item in enumerate(value):
                walk(item, f"{path}[{i}]", key)
        elif isinstance(value, str) and len(value) > MAX_TEXT_CHARS:
            raise refuse(path, f"a {len(value)}-character string")

    walk(metadata, "", "")


def _dict(value: Any) -> dict[str, Any]:
    return dict(value) if isinstance(value, dict) else {}


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, dict):
        parts = [f"{k}: {v}" for k, v in value.items() if isinstance(v, str | int | float)]
        return "; ".join(parts) or None
    return str(value)


UNITS = {"tabular": "rows", "image": "images"}
"""What one sample of a modality is called in a summary (another modality's: "samples")."""
UNIT_KEY = "unit"
"""The data-summary key the registry records that word under (with the adapter's counts)."""


def summaries(manifest: dict[str, Any]) -> dict[str, Any]:
    """The summary fields the registry keeps from a manifest's ``metadata``; the data summary
    says what its counts count (``unit``: rows, images) when the adapter records its kind."""
    record = AdapterRecord.from_json(manifest.get("metadata"))
    limitations = record.extra.get("limitations")
    if isinstance(limitations, str):
        limitations = [limitations]
    data = _dict(record.data_summary)
    if data and isinstance(record.kind, str) and record.kind:
        data.setdefault(UNIT_KEY, UNITS.get(record.kind, "samples"))
    return {
        "task": _text(record.task),
        "data_summary": data,
        "metrics": _dict(record.metrics),
        "intended_use": _text(record.intended_use),
        "base_model": _dict(record.base_model),
        "versus_base": _dict(record.versus_base),
        "limitations": [str(x) for x in limitations] if isinstance(limitations, list) else [],
        # a federated adapter's own figures at each site (the metrics are their means)
        "by_site": _dict(_dict(record.extra.get("federated")).get("by_site")),
        # how a federated adapter kept at a site was made: its sites, and its own step there
        "federated_sites": [
            str(s) for s in _dict(record.extra.get("federated")).get("sites") or []
        ],
        "personalised": _dict(record.extra.get("personalised")),
    }


# ----- local paths -----------------------------------------------------------------------------
_PATH_KEY = re.compile(r"(^|_)(path|dir|directory)$", re.IGNORECASE)


def _is_local_path(key: str, value: Any) -> bool:
    if not isinstance(value, str) or not value.strip():
        return False
    text = value.strip()
    absolute = (
        PurePosixPath(text).is_absolute()
        or PureWindowsPath(text).is_absolute()
        or text.startswith(("~/", "file:"))
    )
    return absolute or _PATH_KEY.search(key) is not None


def strip_local_paths(metadata: Any) -> tuple[Any, list[str]]:
    """``metadata`` without filesystem paths of the machine that trained the adapter (such as
    ``base_model.path``), and the dotted keys removed. Paths mean nothing at another hospital
    and say how this one's disks are laid out, so the registry neither records nor exports
    them."""
    removed: list[str] = []

    def walk(value: Any, path: str) -> Any:
        if isinstance(value, dict):
            out = {}
            for key, item in value.items():
                where = f"{path}.{key}" if path else str(key)
                if _is_local_path(str(key), item):
                    removed.append(where)
                else:
                    out[key] = walk(item, where)
            return out
        if isinstance(value, list):
            return [walk(item, f"{path}[{i}]") for i, item in enumerate(value)]
        return value

    return walk(metadata, ""), removed


def recorded_number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def recorded_interval(value: Any) -> tuple[float, float] | None:
    if isinstance(value, dict):
        value = [value.get("low", value.get("lower")), value.get("high", value.get("upper"))]
    if isinstance(value, list | tuple) and len(value) == 2:
        low, high = recorded_number(value[0]), recorded_number(value[1])
        if low is not None and high is not None:
            return (low, high)
    return None


METRIC_NAMES = (
    "auroc", "auprc", "accuracy", "balanced_accuracy", "sensitivity", "specificity", "brier",
    "ece", "oe_ratio", "mae", "rmse", "r2", "calibration_slope", "calibration_in_the_large", "f1",
    "precision", "recall", "ppv", "npv", "log_loss", "mse", "c_index",
)  # fmt: skip
"""Names the registry shows as performance metrics, in the order it shows them (the first
recorded one is the headline in ``list``). It covers every name in
:data:`medadapt.evaluate.metrics.METRIC_NAMES` (a test checks) without importing scikit-learn
into ``registry list``. Other numbers recorded beside the metrics (``prevalence``,
``threshold``, ``mean_target``...) are bookkeeping, not performance."""


def is_count_name(name: str) -> bool:
    """``n`` and ``n_*``: sample sizes (``n_test``, ``n_positive``), shown as integers."""
    return name == "n" or name.startswith("n_")


@dataclass(frozen=True)
class Metric:
    """One metric: a point estimate and, when recorded, its confidence interval."""

    name: str
    value: float
    ci: tuple[float, float] | None = None

    @property
    def is_count(self) -> bool:
        """A sample size such as ``n`` or ``n_test`` (shown as an integer, never given a CI)."""
        return is_count_name(self.name) and self.value.is_integer()

    def format(self, digits: int = 3) -> str:
        if self.is_count:
            return str(int(self.value))
        text = f"{self.value:.{digits}f}"
        if self.ci is not None:
            text += f" [{self.ci[0]:.{digits}f}, {self.ci[1]:.{digits}f}]"
        return text


def parse_metrics(metrics: dict[str, Any]) -> list[Metric]:
    """The metrics (names in :data:`METRIC_NAMES`, in that order), then the sample sizes
    (``n``, ``n_*``), in either shape: ``{"auroc": 0.8, "auroc_ci": [lo, hi]}`` or
    ``{"auroc": {"value": 0.8, "ci": [lo, hi]}}``; other entries (bookkeeping, notes,
    unreported metrics) are skipped."""
    out = []
    for key, value in metrics.items():
        if key not in METRIC_NAMES and not is_count_name(key):
            continue
        if isinstance(value, dict):
            point = recorded_number(value.get("value", value.get("estimate")))
            ci = recorded_interval(value.get("ci", value))
        else:
            point, ci = recorded_number(value), recorded_interval(metrics.get(f"{key}_ci"))
        if point is None:
            continue
        metric = Metric(key, point, None if is_count_name(key) else ci)
        if metric.is_count or key in METRIC_NAMES:
            out.append(metric)
    order = {name: i for i, name in enumerate(METRIC_NAMES)}
    return sorted(out, key=lambda m: order.get(m.name, len(order)))


def other_values(metrics: dict[str, Any]) -> dict[str, float]:
    """Numbers recorded beside the metrics that are neither metrics nor sample sizes
    (``prevalence``, ``threshold``...): shown as such, never as performance."""
    shown = {m.name for m in parse_metrics(metrics)}
    out = {}
    for key, value in metrics.items():
        base = key[:-3] if key.endswith("_ci") else key
        if key in shown or base in METRIC_NAMES or key == "ci_level":
            continue
        if key.endswith("_sites") and key.removesuffix("_sites") in METRIC_NAMES:
            continue  # a federated mean's count of sites: its note says over how many
        number = recorded_number(value)
        if number is not None:
            out[key] = number
    return out


def metric_notes(metrics: dict[str, Any]) -> dict[str, str]:
    """``{metric: why it was not reported}`` from the ``notes`` that ``evaluate`` records."""
    notes = metrics.get("notes")
    if not isinstance(notes, dict):
        return {}
    return {str(k): v.strip() for k, v in notes.items() if isinstance(v, str) and v.strip()}


CHANCE_NOTE = CHANCE_READING  # as evaluate, the reports and promote read it


def shown_notes(metrics: dict[str, Any]) -> dict[str, str]:
    """:func:`metric_notes` with what an AUROC's recorded interval shows when it reaches 0.5
    (:data:`CHANCE_NOTE`, after any note recorded for it): ``show``, ``list`` and the card
    say it as ``promote`` warns it (a trial's card said only "the interval is wide"). Not the
    note that the adapter found fewer cases than the base (:data:`~medadapt.results.
    FEWER_THAN_BASE`): said with the comparison against the base, where it was recorded."""
    notes = metric_notes(metrics)
    notes.pop(FEWER_THAN_BASE, None)
    if reaches_chance(metrics.get("auroc_ci")) and metrics.get("auroc") is not None:
        notes["auroc"] = "; ".join(filter(None, (notes.get("auroc"), CHANCE_NOTE)))
    return notes


# ----- one version -----------------------------------------------------------------------------
def split_file_of(manifest: Any) -> tuple[str, str] | None:
    """The split file an adapter's ``manifest`` names (``split.json``: which rows or images
    trained it, as keyed hashes) and its sha256, which names its blob in this registry's
    object store where ``add`` kept it; None where it names none, or not as
    :func:`named_file` takes it (a hand-made or damaged manifest: nothing is kept or read for
    it). A table adapter names it ``positions_file``, an image adapter ``keys_file``."""
    metadata = manifest.get("metadata") if isinstance(manifest, dict) else None
    split = metadata.get("split") if isinstance(metadata, dict) else None
    reserved = ("adapter.json",)
    return named_file(split, "positions_file", "positions_sha256", reserved=reserved) or (
        named_file(split, "keys_file", "keys_sha256", reserved=reserved)
    )


def trained_samples(manifest: Any) -> str:
    """What an adapter's split file records the training of, for a sentence: "images" for an
    image adapter's, else "rows"."""
    metadata = manifest.get("metadata") if isinstance(manifest, dict) else None
    return "images" if isinstance(metadata, dict) and metadata.get("kind") == "image" else "rows"


def named_file(
    record: Any, name_key: str, digest_key: str, *, reserved: tuple[str, ...] = ()
) -> tuple[str, str] | None:
    """``(file name, sha256)`` that ``record`` (a model's split summary) names under
    ``name_key`` and ``digest_key``; None unless the name is a plain file name, none of the
    model's own ``reserved`` files, and the digest a SHA-256 (a hand-made ``../index.db``
    made ``verify`` hash the index)."""
    if not isinstance(record, dict):
        return None
    name, digest = record.get(name_key), record.get(digest_key)
    plain = isinstance(name, str) and Path(name).name == name and name not in ("", ".", "..")
    if not plain or name in reserved or not isinstance(digest, str):
        return None
    return (name, digest) if _SHA256.fullmatch(digest) else None


_SHA256 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class AdapterVersion:
    """One registered adapter version, as the index records it."""

    name: str
    version: int
    method: str
    config: dict[str, Any]
    base_fingerprint: dict[str, Any]
    parent: int | None
    task: str | None
    data_summary: dict[str, Any]
    metrics: dict[str, Any]
    intended_use: str | None
    notes: str | None
    origin: dict[str, Any] | None
    manifest_blob: str
    manifest_bytes: int
    manifest_sha256: str
    weights_file: str
    weights_blob: str
    weights_bytes: int
    n_parameters: int | None
    trained: str | None
    registered: str
    card: str
    promoted: bool = False

    def __repr__(self) -> str:
        """``AdapterVersion(va@1, lora, on TabularModel weights sha256 1a2b..., promoted)``:
        which version, not its every field (a notebook's ``reg.add(...)`` printed the card,
        the metrics and every hash)."""
        served = ", promoted" if self.promoted else ""
        return f"AdapterVersion({self.ref}, {self.method}, on {self.base_short}{served})"

    @property
    def ref(self) -> str:
        return f"{self.name}@{self.version}"

    @property
    def base_short(self) -> str:
        fp = self.base_fingerprint
        return f"{fp.get('model_class', '?')} weights sha256 {str(fp.get('weights', ''))[:12]}"

    def metric_list(self) -> list[Metric]:
        return parse_metrics(self.metrics)

    def to_dict(self, *, card: bool = True) -> dict[str, Any]:
        out = asdict(self)
        out["ref"] = self.ref
        if not card:
            out.pop("card")
        return out


# ----- what add, import and export return --------------------------------------------------------
class Registration(NamedTuple):
    """What ``add``/``import_`` did: the version, whether it is new (False: an identical
    adapter was already registered under that name, and nothing was added), one-line
    notices for the user (its base model registered or missing, a parent not recorded...),
    and, adding again an adapter already registered, what of its stored copy was missing or
    damaged and is now repaired (``"the weights file was damaged"``)."""

    version: AdapterVersion
    new: bool
    notices: tuple[str, ...] = ()
    repaired: tuple[str, ...] = ()


class Promotion(NamedTuple):
    """What ``promote`` did: the version now served, the one of its name served until then
    (None: none; the same version: nothing changed), and the versions of other names it
    stopped serving because they served the same group (``on_group_clash="replace"``)."""

    version: AdapterVersion
    previous: AdapterVersion | None
    demoted: tuple[AdapterVersion, ...] = ()


@dataclass(frozen=True)
class Exported:
    """An archive written by ``export``: send ``path``, and ``sha256`` by another channel."""

    path: Path
    sha256: str
    version: AdapterVersion
