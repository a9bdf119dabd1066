"""The adapter engine: bottleneck, LoRA, IA3 and head adapters on any ``torch.nn.Module``."""

from medadapt.adapters.config import (
    AdapterConfig,
    BottleneckConfig,
    HeadConfig,
    IA3Config,
    LoraConfig,
    config_from_dict,
)
from medadapt.adapters.fingerprint import BaseFingerprint, fingerprint_model
from medadapt.adapters.inject import without_adapters
from medadapt.adapters.model import AdapterModel
from medadapt.adapters.peft_io import load_peft_lora
from medadapt.adapters.state import load_adapter, read_manifest, save_adapter
from medadapt.adapters.targets import FAMILIES, TargetSpec, detect_family, preset_targets

__all__ = [
    "FAMILIES",
    "AdapterConfig",
    "AdapterModel",
    "BaseFingerprint",
    "BottleneckConfig",
    "HeadConfig",
    "IA3Config",
    "LoraConfig",
    "TargetSpec",
    "config_from_dict",
    "detect_family",
    "fingerprint_model",
    "load_adapter",
    "load_peft_lora",
    "preset_targets",
    "read_manifest",
    "save_adapter",
    "without_adapters",
]
