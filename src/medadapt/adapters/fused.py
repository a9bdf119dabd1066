"""PyTorch modules that skip their sub-modules, so an adapter inside them would be ignored.

* ``nn.TransformerEncoderLayer`` (batch_first) in eval mode, with no gradient to record, runs
  one fused kernel (``torch._transformer_encoder_layer_fwd``) on the raw weights of its
  attention, FFN and norms, never calling ``linear1``, ``linear2`` or ``self_attn``.
  :func:`sync_fast_paths` turns that fast path off for every encoder layer that holds an adapter
  (by clearing its ``activation_relu_or_gelu`` flag, one of the conditions PyTorch checks; the
  slow path reads the activation function itself), and ``use_nested_tensor`` of an
  ``nn.TransformerEncoder`` around such layers (its padded-batch path hands the layers nested
  tensors). The original values are kept on the module and put back when the last adapter in
  it is removed.
* ``nn.MultiheadAttention`` reads ``out_proj.weight`` as a tensor and keeps its input
  projection as a raw Parameter (``in_proj_weight``): nothing there can be wrapped.
  :func:`check_position` refuses such targets by name.
"""

from __future__ import annotations

from torch import nn

from medadapt.adapters.layer import AdapterLayer, innermost
from medadapt.errors import TargetError

# module type -> (attribute that enables the fused path, value that disables it)
_SWITCHES: dict[type[nn.Module], tuple[str, object]] = {
    nn.TransformerEncoderLayer: ("activation_relu_or_gelu", 0),
    nn.TransformerEncoder: ("use_nested_tensor", False),
}
_SAVED = "_medadapt_fast_path"  # the switch's own value, while medadapt holds it off


def check_position(
    name: str, module: nn.Module, parent: nn.Module, layer_class: type[AdapterLayer]
) -> None:
    """Refuse an adapter at ``name`` that ``nn.MultiheadAttention`` would bypass."""
    method = layer_class.method
    if isinstance(parent, nn.MultiheadAttention):
        raise TargetError(
            f"{name} belongs to nn.MultiheadAttention, which reads its weight directly and "
            f"never calls it, so a {method} adapter there would be ignored; target linear1 / "
            "linear2, or put a bottleneck adapter on the whole attention module"
        )
    if isinstance(innermost(module), nn.MultiheadAttention) and not layer_class.wraps_any_module:
        raise TargetError(
            f"{method} cannot adapt {name} (nn.MultiheadAttention): its input projection is a "
            "raw Parameter (in_proj_weight), not a Linear; target linear1 / linear2, or put a "
            "bottleneck adapter on the whole attention module"
        )


def sync_fast_paths(model: nn.Module) -> None:
    """Hold PyTorch's fused paths off where adapters sit inside, and restore them where none do
    any more."""
    for module in _originals(model):
        for cls, (attr, off) in _SWITCHES.items():
            if isinstance(module, cls):
                _set(module, attr, off, adapted=_holds_adapters(module))


def _originals(model: nn.Module) -> list[nn.Module]:
    """Every original module of ``model`` (wrappers looked through, units skipped)."""
    out: list[nn.Module] = []
    stack = [model]
    while stack:
        module = innermost(stack.pop())
        out.append(module)
        stack.extend(module.children())
    return out


def _holds_adapters(module: nn.Module) -> bool:
    """An adapter layer somewhere below ``module`` (a wrapper around ``module`` itself acts on
    its output and needs no change)."""
    return any(isinstance(m, AdapterLayer) for m in module.modules() if m is not module)


def _set(module: nn.Module, attr: str, off: object, *, adapted: bool) -> None:
    saved = module.__dict__.get(_SAVED)
    if adapted and saved is None:
        setattr(module, _SAVED, getattr(module, attr))
        setattr(module, attr, off)
    elif not adapted and saved is not None:
        setattr(module, attr, saved)
        del module.__dict__[_SAVED]
