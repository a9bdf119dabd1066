"""The public conformance suite for adapter methods (like scikit-learn's ``check_estimator``).

:func:`check_adapter_method` runs every check below for one registered method and raises
``AssertionError`` naming the method, the model and the check that failed. Every built-in method
passes it; a new method should too before it is used:

>>> from medadapt.adapters.testing import check_adapter_method
>>> check_adapter_method("lora")  # silent when the method conforms

Checks: a new adapter is an exact identity; a trained one changes the output and disabling it
restores the base exactly; freezing is structural (exactly the adapter's own parameters train,
none of the base's, whatever their names); save/load round trip is exact, and an adapter is
refused by a base with other weights; a mixed batch equals the per-adapter forwards (with and
without gradients, and after an in-place weight change) or is refused by name when the method
does not mix; training on a mixed batch reaches only the adapters in it; merged equals unmerged
and unmerging restores the base bit for bit (or merging is refused by name); deleting an adapter
leaves the base as it was.
"""

from __future__ import annotations

import copy
import dataclasses
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from medadapt.adapters.config import AdapterConfig
from medadapt.adapters.layer import base_named_tensors
from medadapt.adapters.methods import MethodSpec, default_config, method_spec, preset_targets
from medadapt.adapters.model import AdapterModel
from medadapt.adapters.state import read_manifest
from medadapt.adapters.testing_models import TinyMLP, TinyTransformer
from medadapt.errors import AdapterFileError, AdapterStateError, ConfigError, TargetError

ConfigFactory = Callable[[int], AdapterConfig]
MIXED_IDS = ["b", None, "a", "c", "b", None, "a"]


@dataclass(frozen=True)
class Case:
    """One method on one model: what every check receives."""

    spec: MethodSpec
    label: str  # the model's name, in messages
    build: Callable[[], nn.Module]  # a fresh base model (same weights every call)
    inputs: Callable[[int], torch.Tensor]  # a batch of n samples
    config: ConfigFactory  # seed -> config of adapter a (0), b (1), c (2)
    atol: float

    def adapted(self, *names: str) -> tuple[AdapterModel, nn.Module]:
        """An AdapterModel with adapters ``names`` (randomised), and an untouched base copy."""
        base = self.build()
        reference = copy.deepcopy(base)
        model = AdapterModel(base).eval()
        for seed, name in enumerate(names):
            model.add_adapter(name, self.config(seed))
            randomize(model, name, seed=10 + seed)
        return model, reference


def randomize(model: AdapterModel, name: str, seed: int, scale: float = 0.2) -> None:
    """Give adapter ``name`` non-trivial weights (new adapters are identities)."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for param in model.adapter_parameters(name):
            param.add_(torch.randn(param.shape, generator=generator).to(param) * scale)


def _seeded(factory: Callable[[], nn.Module], seed: int = 0) -> Callable[[], nn.Module]:
    def build() -> nn.Module:
        torch.manual_seed(seed)
        return factory().eval()

    return build


def _batch(shape: tuple[int, ...]) -> Callable[[int], torch.Tensor]:
    return lambda n: torch.randn(n, *shape, generator=torch.Generator().manual_seed(1))


def _close(actual: torch.Tensor, expected: torch.Tensor, atol: float, what: str) -> None:
    gap = (actual.detach().float() - expected.detach().float()).abs().max().item()
    assert gap <= atol, f"{what}: they differ by {gap:.3g} (more than {atol:g})"


def _equal(actual: torch.Tensor, expected: torch.Tensor, what: str) -> None:
    if not torch.equal(actual, expected):
        gap = (actual.detach().float() - expected.detach().float()).abs().max().item()
        raise AssertionError(f"{what}: they differ by {gap:.3g} (expected bit-identical)")


def _per_sample(model: AdapterModel, x: torch.Tensor, ids: list[str | None]) -> torch.Tensor:
    rows = []
    for i, name in enumerate(ids):
        model.set_active(name)
        rows.append(model(x[i : i + 1]))
    model.set_active(None)
    return torch.cat(rows)


def check_identity_at_init(case: Case) -> None:
    """a new adapter is an exact identity"""
    base = case.build()
    reference = copy.deepcopy(base)
    model = AdapterModel(base).eval()
    model.add_adapter("a", case.config(0))
    model.set_active("a")
    x = case.inputs(5)
    with torch.no_grad():
        _equal(model(x), reference(x), "a new adapter's output vs the base model's")


def check_disable_restores_base(case: Case) -> None:
    """a trained adapter changes the output; disabled, the base output comes back exactly"""
    model, reference = case.adapted("a")
    model.set_active("a")
    x = case.inputs(5)
    with torch.no_grad():
        adapted, expected = model(x), reference(x)
        gap = (adapted - expected).abs().max().item()
        assert gap > 1e-4, f"a randomised adapter changes the output by only {gap:.3g}"
        with model.disabled():
            _equal(model(x), expected, "the output with adapters disabled vs the base model's")
        model.set_active(None)
        _equal(model(x), expected, "the output with no active adapter vs the base model's")


def check_structural_freezing(case: Case) -> None:
    """exactly the trained adapter's own parameters require and receive gradients"""
    model, _ = case.adapted("a", "b")
    base_ids = {id(t) for _, t in base_named_tensors(model.base_model)}
    own = {id(p) for p in model.adapter_parameters("a")}
    assert own, "the adapter has no parameters"
    assert not own & base_ids, "the adapter's parameters include base-model parameters"
    model.train_adapter("a")
    trainable = {id(p) for p in model.trainable_parameters()}
    assert trainable == own, "train_adapter('a') made other parameters trainable than a's own"
    assert model.count_parameters("a") == sum(p.numel() for p in model.adapter_parameters("a"))
    model.train()
    model(case.inputs(8)).float().square().sum().backward()
    with_grad = {id(p) for p in model.parameters() if p.grad is not None}
    assert with_grad == own, "gradients reached parameters other than the trained adapter's"
    # per role (e.g. lora_B.weight), over all layers: one dead ReLU unit layer is no failure,
    # a parameter that never learns is
    alive: dict[str, bool] = {}
    for layer in model.layers_of("a"):
        for key, param in layer.units["a"].named_parameters():
            alive[key] = alive.get(key, False) or bool(param.grad.abs().sum() > 0)
    dead = sorted(key for key, ok in alive.items() if not ok)
    assert not dead, f"adapter parameters {dead} got an all-zero gradient in every layer"


def check_save_load(case: Case) -> None:
    """save/load is exact and bound to the base weights"""
    model, reference = case.adapted("a")
    model.set_active("a")
    x = case.inputs(5)
    with torch.no_grad(), tempfile.TemporaryDirectory() as tmp:
        expected = model(x)
        directory = model.save_adapter("a", Path(tmp) / "a", metadata={"check": 1})
        manifest = read_manifest(directory)
        assert manifest["method"] == case.spec.name, f"the manifest says {manifest['method']!r}"
        assert manifest["n_parameters"] == model.count_parameters("a")
        fresh = AdapterModel(copy.deepcopy(reference)).eval()
        assert fresh.load_adapter(directory, name="loaded") == "loaded"
        fresh.set_active("loaded")
        _equal(fresh(x), expected, "the reloaded adapter's output vs the saved one's")
        other_base = copy.deepcopy(reference)
        next(other_base.parameters()).add_(1.0)
        other = AdapterModel(other_base)
        try:
            other.load_adapter(directory)
        except AdapterFileError as err:
            assert "was trained on base weights" in str(err), f"wrong refusal: {err}"
        else:
            raise AssertionError("an adapter loaded onto a base with other weights")
        assert other.adapter_names == [], "a refused load left an adapter behind"


def check_mixed_batch(case: Case) -> None:
    """a mixed batch equals the per-adapter forwards (no_grad, grad, after a weight change)"""
    model, _ = case.adapted("a", "b", "c")
    x = case.inputs(len(MIXED_IDS))
    if not case.spec.mixed_batches:
        try:
            model(x, adapter_ids=MIXED_IDS)
        except AdapterStateError as err:
            assert "cannot share a batch" in str(err), f"wrong refusal: {err}"
            return
        raise AssertionError("a method without mixed batches ran one")
    for grad in (False, True):
        with torch.set_grad_enabled(grad):
            for step in ("", " after an in-place weight change"):
                if step:
                    randomize(model, "a", seed=99)
                mixed = model(x, adapter_ids=MIXED_IDS)
                alone = _per_sample(model, x, MIXED_IDS)
                mode = "grad" if grad else "no_grad"
                _close(
                    mixed, alone, case.atol, f"mixed batch vs per-adapter forwards ({mode}){step}"
                )


def check_mixed_training(case: Case) -> None:
    """training on a mixed batch reaches exactly the adapters in it"""
    if not case.spec.mixed_batches:
        return
    model, _ = case.adapted("a", "b")
    model.train_adapter(["a", "b"])
    model.train()
    model(case.inputs(3), adapter_ids=["a", "a", None]).float().square().sum().backward()
    assert all(p.grad is not None for p in model.adapter_parameters("a")), (
        "an adapter in the mixed batch got no gradient"
    )
    assert all(p.grad is None for p in model.adapter_parameters("b")), (
        "an adapter absent from the mixed batch got a gradient"
    )


def check_merge(case: Case) -> None:
    """merged equals unmerged, and unmerge restores the base bit for bit (or merge is refused)"""
    model, reference = case.adapted("a")
    model.set_active("a")
    x = case.inputs(5)
    if not case.spec.mergeable:
        try:
            model.merge_adapter("a")
        except AdapterStateError as err:
            assert f"adapter 'a' is {case.spec.name}; only " in str(err), f"wrong refusal: {err}"
            return
        raise AssertionError("a method registered as not mergeable was merged")
    before = {k: v.clone() for k, v in base_named_tensors(model.base_model)}
    with torch.no_grad():
        unmerged = model(x)
        model.merge_adapter("a")
        _close(model(x), unmerged, case.atol, "merged vs unmerged outputs")
        try:
            model(x, adapter_ids=["a", None, "a", None, None])
        except AdapterStateError as err:
            assert "call unmerge" in str(err), f"wrong refusal: {err}"
        else:
            raise AssertionError("a mixed batch ran while an adapter was merged")
        randomize(model, "a", seed=7)  # changed while merged: unmerge must not subtract it
        model.unmerge()
        after = dict(base_named_tensors(model.base_model))
        changed = [k for k in before if not torch.equal(before[k], after[k])]
        assert not changed, f"unmerge did not restore base tensors {changed[:3]} bit for bit"
        with model.disabled():
            _equal(model(x), reference(x), "the output after unmerge vs the base model's")


def check_delete(case: Case) -> None:
    """deleting an adapter leaves the base model as it was"""
    base = case.build()
    keys = set(base.state_dict())
    reference = copy.deepcopy(base)
    model = AdapterModel(base).eval()
    model.add_adapter("a", case.config(0))
    model.delete_adapter("a")
    assert set(model.base_model.state_dict()) == keys, "the base's state-dict keys changed"
    x = case.inputs(5)
    with torch.no_grad():
        _equal(model(x), reference(x), "the output after delete vs the base model's")


CHECKS = (
    check_identity_at_init,
    check_structural_freezing,
    check_disable_restores_base,
    check_save_load,
    check_mixed_batch,
    check_mixed_training,
    check_merge,
    check_delete,
)


def _factory(config: AdapterConfig | ConfigFactory) -> ConfigFactory:
    return config if callable(config) else lambda seed: config


def _default_cases(spec: MethodSpec, atol: float) -> list[Case]:
    """The built-in tiny models with the method's defaults (explicit Linear targets on the MLP,
    and on the Transformer when the method has no ``timm_vit`` preset targets)."""
    if "timm_vit" in spec.defaults:
        base_config = default_config(spec.name, "timm_vit", heads=("head",))
    else:
        base_config = spec.config_class(heads=("head",))
    mlp_config = dataclasses.replace(base_config, targets=("body.0", "body.2"))
    vit_config = base_config
    if spec.layer_class is not None and not preset_targets("timm_vit", base_config):
        vit_config = dataclasses.replace(base_config, targets=("attn.qkv", "mlp.fc1"))
    mlp = Case(spec, "TinyMLP", _seeded(TinyMLP), _batch((6,)), _factory(mlp_config), atol)
    vit = Case(spec, "TinyTransformer", _seeded(TinyTransformer), _batch((5, 6)), mlp.config, atol)
    return [mlp, dataclasses.replace(vit, config=_factory(vit_config))]


def check_adapter_method(
    name: str,
    *,
    model: Callable[[], nn.Module] | None = None,
    inputs: Callable[[int], torch.Tensor] | None = None,
    config: AdapterConfig | ConfigFactory | None = None,
    atol: float = 1e-5,
) -> None:
    """Run the conformance checks for registered method ``name``.

    Without ``model``: on :class:`TinyMLP` and :class:`TinyTransformer`, with the method's
    default config (or ``config``). With ``model`` (a factory returning the same base model on
    every call, whose forward returns a tensor), ``inputs(n)`` (a batch of n samples) and
    ``config`` (an AdapterConfig, or ``seed -> AdapterConfig`` for adapters a, b, c) are needed;
    the checks run on float64 copies of the model and inputs where the model runs in float64
    (a trial's 12-block ViT in float32 differed merged and unmerged by 1.7e-4 of round-off, and
    the check said the merge was wrong).
    ``atol``: the tolerance of the merged-vs-unmerged and mixed-vs-per-adapter comparisons.

    Raises:
        AssertionError: naming the method, the model and the first check that failed.
    """
    spec = method_spec(name)
    if model is None:
        cases = _default_cases(spec, atol)
        if config is not None:
            cases = [dataclasses.replace(c, config=_factory(config)) for c in cases]
    else:
        if inputs is None or config is None:
            raise TypeError("check_adapter_method(model=...) needs inputs= and config= too")
        label = type(model()).__name__
        model, inputs = _in_float64(model, inputs)
        cases = [Case(spec, label, _seeded(model), inputs, _factory(config), atol)]
    for case in cases:
        method = case.config(0).method
        if method != name:  # a caller's mistake, not a failed check: said under python -O too
            raise TypeError(f"config is for method {method!r}, not {name!r}: pass a {name} "
                            f"config, or check_adapter_method({method!r}, ...)")  # fmt: skip
        try:  # a config that fits no layer of the model is the caller's to fix, not a failure
            AdapterModel(case.build()).add_adapter("a", case.config(0))
        except (ConfigError, TargetError) as err:
            raise type(err)(f"check_adapter_method({name!r}) on {case.label}: {err}") from None
        for check in CHECKS:
            _run(check, case)


def _in_float64(
    model: Callable[[], nn.Module], inputs: Callable[[int], torch.Tensor]
) -> tuple[Callable[[], nn.Module], Callable[[int], torch.Tensor]]:
    """``model`` and ``inputs`` as float64 copies (inputs that are not floats, such as token
    ids, as given) where the model runs so, else as given: float64 leaves no round-off for a
    tolerance of 1e-5 to take for a fault, however deep the network."""

    def as_float64(n: int) -> torch.Tensor:
        x = inputs(n)
        return x.double() if torch.is_floating_point(x) else x

    def build() -> nn.Module:
        return model().double()

    try:
        with torch.no_grad():
            build().eval()(as_float64(2))
    except Exception:  # a model that runs only in its own precision: checked as it is
        return model, inputs
    return build, as_float64


def _run(check: Callable[[Case], None], case: Case) -> None:
    where = f"check_adapter_method({case.spec.name!r}) on {case.label}: {check.__doc__}"
    try:
        check(case)
    except AssertionError as err:
        raise AssertionError(f"{where}: {err}") from None
    except Exception as err:  # a crash inside the method is a failed check too
        raise AssertionError(f"{where}: raised {type(err).__name__}: {err}") from err
