"""Loading an adapter onto its base for a command, every failure naming ``--adapter``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from torch import nn

from medadapt.adapters import AdapterModel, read_manifest
from medadapt.errors import AdapterFileError, MedadaptError


def attach_adapter(
    base_model: nn.Module, adapter_dir: Path, base_dir: Path | None = None
) -> tuple[AdapterModel, str, dict[str, Any]]:
    """``(model with the adapter, its name, its manifest)``; ``base_dir``: where
    ``base_model`` was loaded from (a refusal then tells a base replaced in that folder from
    one elsewhere)."""
    adapter_dir = Path(adapter_dir)
    if not adapter_dir.exists():
        raise AdapterFileError(
            f"--adapter {adapter_dir} does not exist; check the path (an adapter is the folder "
            "'medadapt adapt --out' wrote, not the name it printed)"
        )
    if (adapter_dir / "model.json").is_file() and not (adapter_dir / "adapter.json").is_file():
        raise AdapterFileError(
            f"--adapter {adapter_dir} is a base model (model.json), not an adapter: pass it "
            "as --base, and as --adapter a folder written by 'medadapt adapt'"
        )
    manifest: dict[str, Any] = {}
    try:
        manifest = read_manifest(adapter_dir)
        model = AdapterModel(base_model)
        name = model.load_adapter(adapter_dir)
    except MedadaptError as err:
        said = f"--adapter {adapter_dir}: {err}{_its_base(manifest, str(err), base_dir)}"
        raise type(err)(said) from None
    return model, name, manifest


def _its_base(manifest: dict[str, Any], said: str, given: Path | None = None) -> str:
    """Where the base an adapter was trained on lies, as it recorded it, for a refusal that
    says to load that base ("load the base model it was trained on"), when the folder is
    still there; where that folder is the one given (``given``), another base was written
    there since (a trial's ``train-base --force`` over it was told to pass the very --base
    it had passed)."""
    import shlex

    base = (manifest.get("metadata") or {}).get("base_model") or {}
    path = base.get("path") if isinstance(base, dict) else None
    if "load the base model it was trained on" not in said or not isinstance(path, str):
        return ""
    if not (Path(path) / "model.json").is_file():
        return ""
    if given is not None and Path(path).resolve() == Path(given).resolve():
        return (f" (the one then in {path}, since written over by another base model: adapt "
                "again on this one, or restore that base)")  # fmt: skip
    return f" (the one in {path}: pass --base {shlex.quote(path)})"
