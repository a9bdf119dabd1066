"""The multi-adapter prediction service (FastAPI): many adapters, one forward pass per batch."""
