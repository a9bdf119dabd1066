"""Data loading: tabular tables, image folders and files, text (one module per kind)."""
