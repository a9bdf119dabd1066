"""Loading an adapter onto its base for a command, every failure naming ``--adapter``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from torch import nn

from medadapt.adapters import AdapterModel, read_manifest
from medadapt.errors import AdapterFileError, MedadaptError


def attach_adapter(
    base_model: nn.Module, adapter_dir: Path
) -> tuple[AdapterModel, str, dict[str, Any]]:
    """``(model with the adapter, its name, its manifest)``."""
    adapter_dir = Path(adapter_dir)
    if not adapter_dir.exists():
        raise AdapterFileError(f"--adapter {adapter_dir} does not exist; check the path")
    try:
        manifest = read_manifest(adapter_dir)
        model = AdapterModel(base_model)
        name = model.load_adapter(adapter_dir)
    except MedadaptError as err:
        raise type(err)(f"--adapter {adapter_dir}: {err}") from None
    return model, name, manifest
