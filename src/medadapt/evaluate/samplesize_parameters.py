"""Riley et al.'s ``p`` for a trained model or adapter: the parameters it trains, less the
intercepts of its output layer (the criteria's shrinkage and optimism grow with ``p``; the
intercept sets the overall risk). Below the workflows and the Python API, which both read it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from medadapt.adapters.head import HeadLayer
from medadapt.adapters.layer import innermost

if TYPE_CHECKING:
    from torch import nn


def predictor_parameters(modality: Any, model: nn.Module, adapter: str | None = None) -> int:
    """Riley et al.'s ``p`` for a strategy: the parameters it trains, less the intercepts of
    its output layer (:func:`output_intercepts`). ``adapter``: the adapter of ``model`` (an
    :class:`~medadapt.adapters.AdapterModel`) whose parameters are counted, its own copy of
    the head among them; None: every parameter of ``model`` (a fully fine-tuned or a new one).

    Riley et al. (and Pate et al., for more than two classes) count predictor parameters, the
    coefficients whose shrinkage criteria (i) and (ii) bound; the intercept is not one of
    them (every model of the outcome has it, and it sets the overall risk of criterion iii).
    An output layer's bias is that intercept: counted among ``p``, a binary head on 64
    features had 65 parameters where Riley et al. count 64, and criteria (i) and (ii), which
    grow in proportion to ``p``, asked 1.6% more patients. Every other trained parameter,
    hidden layers' biases included, is counted: an upper bound on an adapter's effective
    parameters."""
    if adapter is None:
        trained = sum(p.numel() for p in model.parameters())
    else:
        trained = model.count_parameters(adapter)
    return trained - trained_intercepts(modality, model, adapter)


def trained_intercepts(modality: Any, model: nn.Module, adapter: str | None = None) -> int:
    """The output layer's intercepts among the parameters ``adapter`` trains (its copy of the
    head; None: ``model``'s own head, every weight trained), as :func:`output_intercepts`
    counts them; 0 where the adapter trains no head."""
    if adapter is None:
        heads = [innermost(model.get_submodule(name)) for name in modality.heads(model)]
    else:
        heads = [layer.units[adapter] for layer in model.layers_of(adapter)
                 if isinstance(layer, HeadLayer)]  # fmt: skip
    return sum(output_intercepts(head) for head in heads)


def output_intercepts(head: nn.Module) -> int:
    """The intercepts among an output layer's parameters: one for a single output (a binary
    outcome's log-odds, a measured value), K - 1 for K class logits (adding one number to
    every bias changes no probability, so K biases hold the K - 1 intercepts of a model with
    K classes, as Pate et al.'s K - 1 submodels have); none without a bias.

    >>> from torch import nn
    >>> [output_intercepts(nn.Linear(64, k)) for k in (1, 2, 5)]
    [1, 1, 4]
    >>> output_intercepts(nn.Linear(64, 3, bias=False))
    0
    """
    if getattr(head, "bias", None) is None:
        return 0
    return max(head.out_features - 1, 1)
