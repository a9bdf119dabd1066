"""The adapter registry: versioned, content-addressed, verified adapters to serve and share.

>>> from medadapt.registry import Registry
>>> # reg = Registry("hospital-registry", create=True)
>>> # reg.add("runs/pneumonia-lora", name="pneumonia"); reg.promote("pneumonia@1")
"""

from medadapt.registry.card import render_card
from medadapt.registry.diff import VersionDiff
from medadapt.registry.queries import Event
from medadapt.registry.records import (
    AdapterVersion,
    Exported,
    Metric,
    Promotion,
    Registration,
    RegistryError,
    parse_ref,
)
from medadapt.registry.store import GcReport, Registry, VerifyReport

__all__ = [
    "AdapterVersion",
    "Event",
    "Exported",
    "GcReport",
    "Metric",
    "Promotion",
    "Registration",
    "Registry",
    "RegistryError",
    "VerifyReport",
    "VersionDiff",
    "parse_ref",
    "render_card",
]
