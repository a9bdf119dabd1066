"""Tables: see :class:`~medadapt.modalities.tabular.modality.TabularModality`."""

from medadapt.modalities.tabular.modality import TabularModality
from medadapt.modalities.tabular.options import TabularOptions

__all__ = ["TabularModality", "TabularOptions"]
