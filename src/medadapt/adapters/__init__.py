"""The adapter engine: bottleneck, LoRA, IA3, head and DoRA adapters on any ``torch.nn.Module``.

Each method lives in its own module and registers itself in :mod:`medadapt.adapters.methods`
when imported. The built-in methods are imported first, in the order the registry (and so the
command line) lists them; a new method adds its import line here.
"""

# isort: off
from medadapt.adapters.bottleneck import BottleneckConfig
from medadapt.adapters.lora import LoraConfig
from medadapt.adapters.ia3 import IA3Config
from medadapt.adapters.head import HeadConfig
from medadapt.adapters.dora import DoraConfig

# isort: on
from medadapt.adapters.config import AdapterConfig
from medadapt.adapters.fingerprint import BaseFingerprint, fingerprint_model
from medadapt.adapters.inject import without_adapters
from medadapt.adapters.methods import (
    MethodSpec,
    config_from_dict,
    default_config,
    method_label,
    method_names,
    method_spec,
    preset_targets,
    register_method,
    unregister_method,
)
from medadapt.adapters.model import AdapterModel
from medadapt.adapters.peft_io import export_peft, load_peft_lora
from medadapt.adapters.state import load_adapter, read_manifest, save_adapter
from medadapt.adapters.targets import FAMILIES, TargetSpec, detect_family

__all__ = [
    "FAMILIES",
    "AdapterConfig",
    "AdapterModel",
    "BaseFingerprint",
    "BottleneckConfig",
    "DoraConfig",
    "HeadConfig",
    "IA3Config",
    "LoraConfig",
    "MethodSpec",
    "TargetSpec",
    "config_from_dict",
    "default_config",
    "detect_family",
    "export_peft",
    "fingerprint_model",
    "load_adapter",
    "load_peft_lora",
    "method_label",
    "method_names",
    "method_spec",
    "preset_targets",
    "read_manifest",
    "register_method",
    "save_adapter",
    "unregister_method",
    "without_adapters",
]
