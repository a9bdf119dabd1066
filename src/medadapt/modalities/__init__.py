"""The kinds of data medadapt works on, behind one seam (:mod:`medadapt.modalities.base`).

A modality is one folder here (or anywhere: a plug-in) plus one :func:`register` line.
"""

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
