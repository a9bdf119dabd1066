"""Adapter configurations: one frozen dataclass per method, validated on construction.

A config says *what* an adapter is (method, sizes, where it goes); it holds no weights. Configs
round-trip through plain dicts (``to_dict`` / ``config_from_dict``) so they can be stored in JSON
next to the weights.

>>> cfg = BottleneckConfig(placement="pfeiffer", reduction_factor=8)
>>> config_from_dict(cfg.to_dict()) == cfg
True
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, ClassVar

from medadapt.adapters.targets import TargetSpec, parse_targets
from medadapt.errors import ConfigError

ACTIVATIONS = ("relu", "gelu", "tanh", "silu", "identity")
PLACEMENTS = ("houlsby", "pfeiffer", "parallel")


def _help(text: str, default: Any = dataclasses.MISSING, **kwargs: Any) -> Any:
    """A dataclass field with a help string (read by the CLI and the docs)."""
    return field(default=default, metadata={"help": text}, **kwargs)


@dataclass(frozen=True, kw_only=True)
class AdapterConfig:
    """Fields shared by every method."""

    method: ClassVar[str] = ""

    targets: tuple[TargetSpec, ...] | None = _help(
        "Where to insert the adapter: target specs (a name suffix string, or TargetSpec with "
        "suffix / regex / module_type). None = the preset for the model's family.",
        None,
    )
    family: str | None = _help(
        "Preset family used when targets is None (timm_vit, monai_vit, ft_transformer, "
        "hf_bert). None = detect from the model.",
        None,
    )
    layers: tuple[int, ...] | None = _help(
        "Only the Transformer blocks with these indices (e.g. the top k); None = all blocks.",
        None,
    )
    heads: tuple[str, ...] = _help(
        "Names of nn.Linear output heads that get a trainable per-adapter copy "
        "(saved with the adapter); e.g. ('head',).",
        (),
    )
    head_out_features: int | None = _help(
        "Give the per-adapter head copy this many outputs (> the base head's) to add new "
        "classes; the first rows copy the base head so old classes are kept.",
        None,
    )

    def __post_init__(self) -> None:
        if self.targets is not None:
            object.__setattr__(self, "targets", parse_targets(self.targets))
        if self.layers is not None:
            layers = tuple(int(i) for i in self.layers)
            if any(i < 0 for i in layers):
                raise ConfigError(f"layers must be non-negative block indices, got {layers=}")
            object.__setattr__(self, "layers", layers)
        heads = (self.heads,) if isinstance(self.heads, str) else tuple(self.heads)
        object.__setattr__(self, "heads", heads)
        if self.head_out_features is not None:
            if not heads:
                raise ConfigError(
                    "head_out_features needs heads=('<head module name>',) to know which head to "
                    f"extend, got heads={heads}"
                )
            if self.head_out_features < 1:
                raise ConfigError(
                    f"head_out_features must be positive, got {self.head_out_features=}"
                )
        self._validate()

    def _validate(self) -> None:  # overridden per method
        return None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict, including ``method``."""
        out: dict[str, Any] = {"method": self.method}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.name == "targets" and value is not None:
                value = [spec.to_dict() for spec in value]
            elif isinstance(value, tuple):
                value = list(value)
            out[f.name] = value
        return out


@dataclass(frozen=True, kw_only=True)
class BottleneckConfig(AdapterConfig):
    """Bottleneck adapter: down-projection, non-linearity, up-projection, residual.

    ``placement``: ``houlsby`` (after the attention output and after the FFN), ``pfeiffer``
    (after the FFN only) or ``parallel`` (AdaptFormer: beside the FFN, scaled). The
    up-projection starts at zero, so a new adapter is an exact identity.
    """

    method: ClassVar[str] = "bottleneck"

    placement: str = _help("houlsby | pfeiffer | parallel.", "houlsby")
    reduction_factor: float = _help("Hidden size = d_model / reduction_factor (at least 1).", 16.0)
    d_hidden: int | None = _help("Explicit hidden size; overrides reduction_factor.", None)
    activation: str = _help(f"Non-linearity, one of {ACTIVATIONS}.", "relu")
    dropout: float = _help("Dropout on the adapter's input while training.", 0.0)
    scaling: float | None = _help(
        "Multiplier on the adapter's output; None = 1.0 (serial) or 0.1 (parallel, AdaptFormer).",
        None,
    )
    d_model: int | None = _help(
        "Width of the wrapped sub-layer's output when it cannot be read off its Linear layers.",
        None,
    )

    def _validate(self) -> None:
        if self.placement not in PLACEMENTS:
            raise ConfigError(f"placement must be one of {PLACEMENTS}, got {self.placement=}")
        if not self.reduction_factor > 0:
            raise ConfigError(f"reduction_factor must be positive, got {self.reduction_factor=}")
        if self.d_hidden is not None and self.d_hidden < 1:
            raise ConfigError(f"d_hidden must be positive, got {self.d_hidden=}")
        if self.activation not in ACTIVATIONS:
            raise ConfigError(f"activation must be one of {ACTIVATIONS}, got {self.activation=}")
        if not 0.0 <= self.dropout < 1.0:
            raise ConfigError(f"dropout must be in [0, 1), got {self.dropout=}")
        if self.d_model is not None and self.d_model < 1:
            raise ConfigError(f"d_model must be positive, got {self.d_model=}")

    @property
    def mode(self) -> str:
        """``serial`` (adapter reads the sub-layer's output) or ``parallel`` (its input)."""
        return "parallel" if self.placement == "parallel" else "serial"

    @property
    def effective_scaling(self) -> float:
        if self.scaling is not None:
            return float(self.scaling)
        return 0.1 if self.mode == "parallel" else 1.0

    def hidden_size(self, d_model: int) -> int:
        if self.d_hidden is not None:
            return self.d_hidden
        return max(1, round(d_model / self.reduction_factor))


@dataclass(frozen=True, kw_only=True)
class LoraConfig(AdapterConfig):
    """LoRA: ``W x + (alpha / r) * B A x`` on Linear and Conv2d layers; B starts at zero."""

    method: ClassVar[str] = "lora"

    r: int = _help("Rank of the update.", 8)
    alpha: float = _help("Scale numerator: the update is multiplied by alpha / r.", 16.0)
    dropout: float = _help("Dropout on the LoRA branch's input while training.", 0.0)
    use_rslora: bool = _help("Rank-stabilised scale alpha / sqrt(r) (Kalajdzievski 2023).", False)
    rank_pattern: dict[str, int] = _help(
        "Per-layer rank overrides: name suffix or regex -> r (as in PEFT).", default_factory=dict
    )
    alpha_pattern: dict[str, float] = _help(
        "Per-layer alpha overrides: name suffix or regex -> alpha (as in PEFT).",
        default_factory=dict,
    )
    init: str = _help(
        "'zero_b' (exact identity: B = 0) or 'random' (both random; for tests and interop).",
        "zero_b",
    )

    def _validate(self) -> None:
        if self.r < 1:
            raise ConfigError(f"r must be positive, got {self.r=}")
        if not self.alpha > 0:
            raise ConfigError(f"alpha must be positive, got {self.alpha=}")
        if not 0.0 <= self.dropout < 1.0:
            raise ConfigError(f"dropout must be in [0, 1), got {self.dropout=}")
        if self.init not in ("zero_b", "random"):
            raise ConfigError(f"init must be 'zero_b' or 'random', got {self.init=}")
        for key, value in self.rank_pattern.items():
            if int(value) < 1:
                raise ConfigError(f"rank_pattern[{key!r}] must be positive, got {value}")
        object.__setattr__(self, "rank_pattern", dict(self.rank_pattern))
        object.__setattr__(self, "alpha_pattern", dict(self.alpha_pattern))


@dataclass(frozen=True, kw_only=True)
class IA3Config(AdapterConfig):
    """IA3: learned per-channel scales (Liu et al. 2022), initialised to one.

    Layers named in ``feedforward`` scale their *input* (the FFN's second layer); the others
    scale their output (keys and values).
    """

    method: ClassVar[str] = "ia3"

    feedforward: tuple[str, ...] | None = _help(
        "Name suffixes of the targets whose input (not output) is scaled; None = preset.", None
    )
    init: str = _help("'ones' (exact identity) or 'random' (for tests).", "ones")

    def _validate(self) -> None:
        if self.feedforward is not None:
            ff = (self.feedforward,) if isinstance(self.feedforward, str) else self.feedforward
            object.__setattr__(self, "feedforward", tuple(ff))
        if self.init not in ("ones", "random"):
            raise ConfigError(f"init must be 'ones' or 'random', got {self.init=}")


@dataclass(frozen=True, kw_only=True)
class HeadConfig(AdapterConfig):
    """Head only: no layer inside the backbone changes; a per-adapter copy of the head trains."""

    method: ClassVar[str] = "head"

    def _validate(self) -> None:
        if not self.heads:
            raise ConfigError("method 'head' needs heads=('<head module name>',), got none")


CONFIG_CLASSES: dict[str, type[AdapterConfig]] = {
    cls.method: cls for cls in (BottleneckConfig, LoraConfig, IA3Config, HeadConfig)
}


def config_from_dict(data: dict[str, Any]) -> AdapterConfig:
    """Rebuild a config from :meth:`AdapterConfig.to_dict` output."""
    data = dict(data)
    method = data.pop("method", None)
    if method not in CONFIG_CLASSES:
        raise ConfigError(
            f"unknown adapter method {method!r}; expected one of {sorted(CONFIG_CLASSES)}"
        )
    cls = CONFIG_CLASSES[method]
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ConfigError(f"unknown field(s) {unknown} for method {method!r}")
    for key in ("layers", "heads", "feedforward"):
        if isinstance(data.get(key), list):
            data[key] = tuple(data[key])
    return cls(**data)
