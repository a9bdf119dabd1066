"""Base models kept in the registry, so a server can find the base of every adapter.

``ROOT/bases/<weights sha256[:16]>/`` holds a copy of a ``train-base`` directory
(``model.json`` + ``model.safetensors``). It is copied into ``tmp/`` and renamed into place, so
a killed copy never leaves a half base; the checksum in ``model.json`` is verified on load.
Adapters name their base by fingerprint; :func:`find_base` maps one to the other.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from pathlib import Path
from typing import Any

from medadapt.errors import AdapterFileError

BASES = "bases"
_FILES = ("model.json", "model.safetensors")


def _key(weights_sha256: str) -> str:
    return weights_sha256[:16]


def add_base(root: str | Path, base_dir: str | Path) -> tuple[Path, bool]:
    """Copy the base model in ``base_dir`` into the registry; ``(path, newly added)``."""
    from medadapt.train.bundle import BaseModel

    root, base_dir = Path(root), Path(base_dir)
    base = BaseModel.load(base_dir)  # verifies the checksum before anything is copied
    fingerprint = json.loads((base_dir / "model.json").read_text())["fingerprint"]
    target = root / BASES / _key(fingerprint["weights"])
    if (target / "model.json").is_file():
        return target, False
    staging = root / "tmp" / f"base-{uuid.uuid4().hex}"
    staging.mkdir(parents=True)
    for name in _FILES:
        shutil.copy2(base_dir / name, staging / name)
        with open(staging / name, "rb") as handle:
            os.fsync(handle.fileno())
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.rename(staging, target)
    except OSError:  # another process registered the same base meanwhile
        shutil.rmtree(staging, ignore_errors=True)
        return target, False
    del base
    return target, True


def list_bases(root: str | Path) -> list[dict[str, Any]]:
    """Fingerprint, kind and training summary of every registered base (no weights read)."""
    out = []
    for directory in sorted((Path(root) / BASES).glob("*/model.json")):
        manifest = json.loads(directory.read_text())
        out.append(
            {
                "path": str(directory.parent),
                "kind": manifest["kind"],
                "fingerprint": manifest["fingerprint"],
                "label": manifest["schema"].get("label"),
                "groups": manifest.get("training", {}).get("groups"),
            }
        )
    return out


def find_base(root: str | Path, weights_sha256: str) -> Path:
    """The registered base directory whose weights hash is ``weights_sha256``."""
    directory = Path(root) / BASES / _key(weights_sha256)
    if not (directory / "model.json").is_file():
        raise AdapterFileError(
            f"the registry has no base model with weights {weights_sha256[:12]}; add it with "
            "'medadapt registry --root DIR add-base BASE_DIR'"
        )
    return directory
