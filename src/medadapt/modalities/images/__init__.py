"""Medical images: see :class:`~medadapt.modalities.images.modality.ImageModality`."""

from medadapt.modalities.images.modality import ImageModality
from medadapt.modalities.images.options import ImageOptions

__all__ = ["ImageModality", "ImageOptions"]
