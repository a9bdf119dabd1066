"""A plug-in modality that fails while it registers (the one-error-line test imports it)."""

raise ValueError("signal format version 3 is not supported")
