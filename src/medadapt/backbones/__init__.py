"""Model backbones: tabular FT-Transformer, vision Transformers."""
