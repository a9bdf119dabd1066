"""DoRA (Liu et al. 2024): weight-decomposed LoRA on ``nn.Linear``, computed as PEFT does.

The adapted weight is ``W' = m * (W + s B A) / n`` with ``n = ||W + s B A||`` taken per output
row (over the input dimension; the paper's column-wise norm of ``W`` stored as (in, out)) and
``m`` a learned magnitude per output, initialised to ``n`` (so a new adapter, B = 0, is an exact
identity). As the paper suggests (section 4.3) and PEFT does, ``n`` is a constant for the
gradient: it is recomputed from the current weights on every forward but detached. The forward
adds to the base output ``y = W x + b``::

    (m / n - 1) * W x'  +  (m / n) * s * B A x'        x' = dropout(x)

Without dropout (or in eval mode) ``W x`` is ``y - b``; with dropout it is ``W x'`` computed
afresh, exactly PEFT's choice. A mixed batch gathers each sample's ``m / n`` (a stacked
(n_adapters + 1, out) table; the identity slot holds ones) along with its A and B, so per-sample
DoRA needs no loop over adapters (PEFT refuses DoRA in mixed batches). Merging writes
``m / n * (W + s B A)`` into the weight, with ``n`` from the unmerged base weight, as PEFT;
unmerging restores the remembered base bit for bit. Convolutions are refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import torch
import torch.nn.functional as F
from torch import nn

from medadapt.adapters.layer import innermost, matmul_dtype, per_sample
from medadapt.adapters.lora import LoraConfig, LoraLayer, LoraUnit
from medadapt.adapters.methods import MethodSpec, method_spec, register_method
from medadapt.adapters.routing import MixedRoute
from medadapt.errors import AdapterStateError, TargetError


@dataclass(frozen=True, kw_only=True)
class DoraConfig(LoraConfig):
    """DoRA: LoRA's direction update plus a learned magnitude per output (``nn.Linear`` only).

    Same fields as :class:`LoraConfig`; ``init='zero_b'`` gives an exact identity.
    """

    method: ClassVar[str] = "dora"


def weight_norm(weight: torch.Tensor, delta: torch.Tensor) -> torch.Tensor:
    """``||W + delta||`` per output row, detached. Shape: (out, in) -> (out,)."""
    return torch.linalg.norm(weight + delta, dim=1).detach()


class DoraUnit(LoraUnit):
    """One adapter's A, B and magnitude ``m`` (out,) for one Linear layer."""

    def __init__(self, base: nn.Linear, *, r: int, scaling: float, dropout: float, init: str):
        super().__init__(base, r=r, scaling=scaling, dropout=dropout, init=init)
        with torch.no_grad():
            weight = base.weight
            norm = weight_norm(weight, self.delta_weight().to(weight.dtype))
        self.magnitude = nn.Parameter(norm.clone())

    def factor(self, weight: torch.Tensor) -> torch.Tensor:
        """``m / ||W + s B A||`` (the norm detached) for base weight ``weight``. Shape: (out,)."""
        norm = weight_norm(weight, self.delta_weight().detach().to(weight.dtype))
        return self.magnitude / norm.to(self.magnitude.dtype)


class DoraLayer(LoraLayer):
    """A Linear layer with DoRA adapters."""

    method = "dora"
    unit_class = DoraUnit
    merges_onto_the_base_weight = True  # ``m / n``: ``n`` of the base weight

    def __init__(self, base_layer: nn.Module, routing: Any) -> None:
        inner = innermost(base_layer)
        if not isinstance(inner, nn.Linear):
            raise TargetError(
                f"dora needs nn.Linear layers, got {type(inner).__name__}; target the Linear "
                "layers (DoRA on convolutions is not supported: use lora there)"
            )
        super().__init__(base_layer, routing)

    def _plain(self, x: torch.Tensor, y: torch.Tensor, dropped: bool) -> torch.Tensor:
        """``W x`` (no bias): ``y - b`` when ``y`` is the plain Linear's output of this very
        ``x`` (or, several adapters active, what the ones before gave: applied in turn, as
        PEFT applies them and merging folds them), else computed (dropout applied, or
        another adapter layer inside this one)."""
        inner = innermost(self.base_layer)
        if dropped or self.base_layer is not inner:
            return F.linear(x, inner.weight.to(x.dtype))
        return y if inner.bias is None else y - inner.bias.to(y.dtype)

    def forward_active(self, names: tuple[str, ...], args: tuple, kwargs: dict) -> Any:
        x = args[0]
        y = self.base_layer(*args, **kwargs)
        weight = innermost(self.base_layer).weight
        out = y
        for name in names:  # several active: each scales what the one before gave, as PEFT
            unit = self.units[name]
            dropped = bool(unit.dropout and self.training)
            source = F.dropout(x, unit.dropout, True) if dropped else x
            factor = unit.factor(weight).to(y.dtype)  # (out,)
            lora = unit.lora_B(unit.lora_A(source) * unit.scaling).to(y.dtype)  # (..., out)
            out = out + (factor - 1) * self._plain(source, out, dropped) + factor * lora
        return out

    def forward_mixed(self, route: MixedRoute, args: tuple, kwargs: dict) -> Any:
        x = args[0]
        y = self.base_layer(*args, **kwargs)
        batch = route.batch_size
        result = per_sample(y, batch)  # (B, T, out)
        for key, names in self.groups(route).items():  # one pass per dropout rate
            slot = self.slots(route, names, y.device)  # (B,)
            dtype = matmul_dtype(x, self.units[names[0]].lora_A.weight)
            a_stack, b_stack, scale, factor = self.stacked(
                (key, dtype), names, lambda n, dtype=dtype: self._stack_dora(n, dtype)
            )
            dropped = bool(key and self.training)
            source = F.dropout(x, key, True) if dropped else x
            plain = per_sample(self._plain(source, y, dropped), batch).to(result.dtype)
            tokens = per_sample(source, batch)  # (B, T, in)
            low = torch.bmm(tokens, a_stack.index_select(0, slot))  # (B, T, r)
            low = low * scale.index_select(0, slot).view(batch, 1, 1)
            lora = torch.bmm(low, b_stack.index_select(0, slot)).to(result.dtype)  # (B, T, out)
            f = factor.index_select(0, slot).unsqueeze(1).to(result.dtype)  # (B, 1, out)
            result = result + (f - 1) * plain + f * lora  # identity slot: f = 1, lora = 0
        return result.reshape(y.shape)

    def _stack_dora(self, names: tuple[str, ...], dtype: torch.dtype) -> tuple[torch.Tensor, ...]:
        """LoRA's stacks (a (n+1, in, r), b (n+1, r, out), scale (n+1,)) plus each adapter's
        ``m / n`` and a row of ones for the identity slot: factor (n+1, out)."""
        a, b, scale = self._stack(names, dtype)
        weight = innermost(self.base_layer).weight
        factors = [self.units[n].factor(weight) for n in names]
        factor = torch.stack([*factors, torch.ones_like(factors[0])])
        return a, b, scale, factor

    @torch.no_grad()
    def merge(self, name: str) -> None:
        """``W <- m / n * (W + s B A)``, ``n`` from the unmerged base weight (as PEFT)."""
        if name in self.merged:
            raise AdapterStateError(f"adapter {name!r} is already merged")
        self.remember_base()
        weight = self.base_layer.weight
        unit = self.units[name]
        delta = unit.delta_weight().to(weight.dtype)
        factor = unit.factor(self._pristine["weight"]).to(weight.dtype)
        weight.copy_(factor.view(-1, 1) * (weight + delta))
        self.merged.append(name)


register_method(
    MethodSpec(
        name="dora",
        config_class=DoraConfig,
        layer_class=DoraLayer,
        label="DoRA adapter",
        mergeable=True,
        family_targets=method_spec("lora").family_targets,  # the same layers as LoRA
        defaults=method_spec("lora").defaults,
    )
)
