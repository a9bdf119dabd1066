"""The kinds of data medadapt works on, behind one seam (:mod:`medadapt.modalities.base`).

A modality is one folder here (or anywhere: a plug-in) plus one :func:`register` line. A
plug-in outside this package registers when it is imported; medadapt imports the modules named
by the ``medadapt.modalities`` entry-point group of installed packages, and those listed
(comma-separated) in the ``MEDADAPT_MODALITIES`` environment variable.
"""

import importlib
import os
from importlib.metadata import entry_points

from medadapt.errors import ConfigError
from medadapt.modalities.base import (
    Modality,
    ModalityOptions,
    Reading,
    Samples,
    modality_for_data,
    modality_of,
    register,
    registered,
)
from medadapt.modalities.images import ImageModality
from medadapt.modalities.tabular import TabularModality

register(TabularModality())
register(ImageModality())


def _load_plugins() -> None:
    """Import every plug-in modality (entry points, then ``MEDADAPT_MODALITIES``)."""
    for point in entry_points(group="medadapt.modalities"):
        try:
            point.load()
        except Exception as error:  # a broken plug-in: one line naming it, not a traceback
            raise ConfigError(
                f"the plug-in modality {point.name!r} ({point.value}) cannot be loaded "
                f"({_why(error)}); reinstall or uninstall the package that "
                "provides it"
            ) from None
    listed = os.environ.get("MEDADAPT_MODALITIES", "").split(",")
    for name in filter(None, (n.strip() for n in listed)):
        try:
            importlib.import_module(name)
        except Exception as error:  # not found, or broken: a SyntaxError, a failing register
            raise ConfigError(
                f"MEDADAPT_MODALITIES names {name!r}, which cannot be imported ({_why(error)}); "
                "fix the module name or unset the variable"
            ) from None


def _why(error: Exception) -> str:
    return str(error) if isinstance(error, ImportError) else f"{type(error).__name__}: {error}"


_load_plugins()

__all__ = [
    "Modality",
    "ModalityOptions",
    "Reading",
    "Samples",
    "modality_for_data",
    "modality_of",
    "register",
    "registered",
]
