"""Data: reading tables and images, schemas, splits, bundled data sets."""
