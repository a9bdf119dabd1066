"""The synthetic images the tests train on: :mod:`medadapt.data.demo_images` (the README's
image example writes them too)."""

from medadapt.data.demo_images import (  # noqa: F401 (the tests' names for them)
    NEW,
    OLD,
    make_dataset,
    write_npz,
    write_png_csv,
)
