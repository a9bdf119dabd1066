"""Load pretrained weights from a local file into a vision backbone, fixing the usual
mismatches the way timm does:

* a head of another size (e.g. 1000 ImageNet classes) is dropped and re-initialised;
* position embeddings for another input size are resampled (timm's
  ``resample_abs_pos_embed``; trilinear for 3D MONAI grids);
* patch-embedding weights for another channel count are summed (3 -> 1) or repeated and
  scaled (1 -> 3), as timm's ``adapt_input_conv``; for another patch size (2D) they are
  resampled with timm's ``resample_patch_embed``.

Anything else that does not fit is refused with one line naming the first mismatched keys.
Files: ``.pth``/``.pt``/``.bin``/``.ckpt`` read with ``torch.load(weights_only=True)`` (a raw
state dict, or a dict holding it under ``state_dict`` or ``model``), or ``.safetensors``.

Each backbone owns the remapping of its own keys: a model with a ``remap_checkpoint(state,
name)`` method (e.g. :class:`~medadapt.backbones.vision.MonaiViTClassifier`) is remapped by it;
any other model is taken to have timm's ViT key layout (:func:`remap_timm_checkpoint`). This
module imports no backbone: backbones import the helpers below (``drop_unfit_head``,
``adapt_input_channels``, ``grid_side``).
"""

from __future__ import annotations

import logging
import pickle
from collections.abc import Callable, Mapping
from pathlib import Path

import torch
from safetensors.torch import load_file
from timm.layers import resample_abs_pos_embed, resample_patch_embed
from timm.models._manipulate import adapt_input_conv
from torch import nn

from medadapt.errors import DataError

log = logging.getLogger(__name__)

_TORCH_SUFFIXES = (".pth", ".pt", ".bin", ".ckpt")
WEIGHTS_SUFFIXES = (".safetensors", *_TORCH_SUFFIXES)  # every file this module reads

#: ``remap(state, name) -> (notes, keys allowed to be missing)``: fixes ``state`` in place
#: (``name``: the file name, for the notes) so that it fits the model the remap belongs to.
KeyRemap = Callable[[dict[str, torch.Tensor], str], tuple[list[str], set[str]]]


def read_state_dict(path: str | Path) -> dict[str, torch.Tensor]:
    """The tensors of a local checkpoint file (never unpickles arbitrary objects)."""
    path = Path(path)
    if not path.is_file():
        raise DataError(
            f"weights file {path} does not exist: pass a local .pth, .pt or .safetensors file"
        )
    suffix = path.suffix.lower()
    if suffix == ".safetensors":
        try:
            loaded: object = load_file(str(path), device="cpu")
        except Exception as exc:
            raise DataError(
                f"cannot read {path} as safetensors ({type(exc).__name__}: {exc}): the file is "
                "truncated or not a safetensors file"
            ) from None
    elif suffix in _TORCH_SUFFIXES:
        try:
            loaded = torch.load(path, map_location="cpu", weights_only=True)
        except pickle.UnpicklingError:
            raise DataError(
                f"{path} holds Python objects besides tensors, which medadapt does not unpickle: "
                "re-save it with torch.save(model.state_dict(), path) or as .safetensors"
            ) from None
        except Exception as exc:
            raise DataError(
                f"cannot read {path} ({type(exc).__name__}: {str(exc).splitlines()[0]}): the "
                "file is truncated or not a PyTorch checkpoint"
            ) from None
    else:
        raise DataError(
            f"weights file {path} has an unknown suffix {path.suffix!r}: use a .pth, .pt or "
            ".safetensors file"
        )
    return _unwrap(loaded, path)


def _unwrap(loaded: object, path: Path) -> dict[str, torch.Tensor]:
    if isinstance(loaded, Mapping):
        for key in ("state_dict", "model"):
            if isinstance(loaded.get(key), Mapping):
                loaded = loaded[key]
                break
    if not isinstance(loaded, Mapping) or not loaded:
        raise DataError(
            f"{path} holds no state dict (a mapping of names to tensors, optionally under "
            "'state_dict' or 'model'): re-save it with torch.save(model.state_dict(), path)"
        )
    state = {str(k): v for k, v in loaded.items() if isinstance(v, torch.Tensor)}
    if len(state) != len(loaded):
        bad = next(str(k) for k, v in loaded.items() if not isinstance(v, torch.Tensor))
        raise DataError(
            f"{path}: entry {bad!r} is not a tensor; save only model.state_dict() in the file"
        )
    if all(k.startswith("module.") for k in state):  # saved from DataParallel / DDP
        state = {k[len("module.") :]: v for k, v in state.items()}
    return state


def load_backbone_weights(model: nn.Module, path: str | Path) -> list[str]:
    """Load ``path`` into ``model`` (built by ``create_vision_backbone``); returns the notes
    on what was adapted (also logged). The keys are remapped by the model's own
    ``remap_checkpoint`` if it has one, else as timm's (see the module docstring)."""
    state = read_state_dict(path)
    name = Path(path).name
    own: KeyRemap | None = getattr(model, "remap_checkpoint", None)
    if callable(own):
        notes, allowed_missing = own(state, name)
    else:
        notes, allowed_missing = remap_timm_checkpoint(state, model, name)
    expected = model.state_dict()
    missing = [k for k in expected if k not in state and k not in allowed_missing]
    unexpected = [k for k in state if k not in expected]
    wrong = [
        f"{k} {tuple(state[k].shape)} vs {tuple(expected[k].shape)}"
        for k in state
        if k in expected and state[k].shape != expected[k].shape
    ]
    if missing or unexpected or wrong:
        parts = [
            f"{label} {', '.join(keys[:3])}{' ...' if len(keys) > 3 else ''}"
            for label, keys in (
                ("missing", missing),
                ("unexpected", unexpected),
                ("shape", wrong),
            )
            if keys
        ]
        if _is_base_manifest(Path(path).parent / "model.json"):  # a trial's: medadapt's own
            raise DataError(
                f"weights file {name} is a medadapt base model's (model.json beside it), not a "
                f"backbone checkpoint: pass its folder as --base to adapt it (adapt --base "
                f"{Path(path).parent}), or give --weights a pretrained backbone's file"
            )
        raise DataError(
            f"weights file {name} does not fit {_spec(model)}: {'; '.join(parts)}; build the "
            "backbone with the options the checkpoint was trained with (--backbone-options "
            "depth=..,embed_dim=..,patch_size=..; backbone_options= in Python), or give "
            "--weights a checkpoint of this backbone"
        )
    model.load_state_dict(state, strict=False)
    for note in notes:
        (log.warning if "re-initialised" in note else log.info)("%s", note)
    return notes


def _is_base_manifest(path: Path) -> bool:
    """Whether ``path`` is a medadapt base model's manifest (its ``kind`` and ``schema``), not
    any ``model.json`` a third-party checkpoint's folder may hold (a review)."""
    import json

    try:
        manifest = json.loads(path.read_text())
    except (OSError, ValueError):
        return False
    return isinstance(manifest, dict) and "kind" in manifest and "schema" in manifest


def _spec(model: nn.Module) -> str:
    desc = getattr(model, "medadapt_architecture", None)
    return desc["spec"] if desc else type(model).__name__


def drop_unfit_head(
    state: dict[str, torch.Tensor], model: nn.Module, prefix: str, name: str, notes: list[str]
) -> set[str]:
    """Drop the head tensors (keys starting with ``prefix``) that do not fit ``model``, with a
    note; returns their keys, which are then allowed to be missing."""
    expected = model.state_dict()
    keys = [k for k in expected if k.startswith(prefix)]
    if all(k in state and state[k].shape == expected[k].shape for k in keys):
        return set()
    found = state.get(f"{prefix}weight")
    classes = f"{found.shape[0]} classes" if found is not None else "no head"
    for key in keys:
        state.pop(key, None)
    notes.append(
        f"{name}: the checkpoint head ({classes}) does not fit {expected[keys[0]].shape[0]} "
        "classes; the head is re-initialised and must be trained"
    )
    return set(keys)


def adapt_input_channels(weight: torch.Tensor, in_chans: int) -> torch.Tensor:
    """timm's ``adapt_input_conv`` for 2D or 3D (the depth axis folded into height) kernels."""
    shape = weight.shape
    folded = weight.reshape(shape[0], shape[1], -1, shape[-1])
    adapted = adapt_input_conv(in_chans, folded, base_chans=shape[1])
    return adapted.reshape(shape[0], in_chans, *shape[2:])


def grid_side(n_tokens: int, dims: int, key: str, name: str) -> int:
    """The side of the square (``dims`` 2) or cube (3) grid of ``n_tokens`` patch positions."""
    side = round(n_tokens ** (1 / dims))
    if side**dims != n_tokens:
        raise DataError(
            f"{name}: {key} has {n_tokens} patch positions, not a square/cube grid; medadapt "
            "cannot resample it: build the backbone with the checkpoint's image size"
        )
    return side


def remap_timm_checkpoint(
    state: dict[str, torch.Tensor], model: nn.Module, name: str
) -> tuple[list[str], set[str]]:
    """Fit ``state`` to a timm ViT ``model`` (see :data:`KeyRemap`): patch embedding to its
    channels and patch size, position embedding to its grid, a head of another size dropped."""
    notes: list[str] = []
    key = "patch_embed.proj.weight"
    target = model.state_dict().get(key)
    if key in state and target is not None and state[key].dim() == 4:
        weight = state[key]
        if weight.shape[1] != target.shape[1]:
            weight = adapt_input_channels(weight, target.shape[1])
            notes.append(
                f"{name}: patch embedding adapted from {state[key].shape[1]} to "
                f"{target.shape[1]} input channels"
            )
        if weight.shape[-2:] != target.shape[-2:]:
            weight = resample_patch_embed(weight, list(target.shape[-2:]))
            notes.append(
                f"{name}: patch embedding resampled from {tuple(state[key].shape[-2:])} to "
                f"{tuple(target.shape[-2:])} patches"
            )
        state[key] = weight
    pos, target_pos = state.get("pos_embed"), getattr(model, "pos_embed", None)
    if (
        pos is not None
        and target_pos is not None
        and pos.shape != target_pos.shape
        and pos.shape[-1] == target_pos.shape[-1]
    ):
        prefix = 0 if getattr(model, "no_embed_class", False) else model.num_prefix_tokens
        old = grid_side(pos.shape[1] - prefix, 2, "pos_embed", name)
        new = list(model.patch_embed.grid_size)
        state["pos_embed"] = resample_abs_pos_embed(
            pos, new_size=new, old_size=[old, old], num_prefix_tokens=prefix
        )
        notes.append(
            f"{name}: position embedding resampled from a {old}x{old} to a "
            f"{new[0]}x{new[1]} patch grid"
        )
    allowed = drop_unfit_head(state, model, "head.", name, notes)
    return notes, allowed
