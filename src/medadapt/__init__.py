"""medadapt: adapters for frozen medical Transformers."""

__version__ = "0.1.0"
