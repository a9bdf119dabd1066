"""Default adapter names from data values: ASCII, accents dropped, never a mangled letter."""

from __future__ import annotations

from pathlib import Path

import pytest

from medadapt.workflows.adapt import default_name
from medadapt.workflows.naming import slug


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Zürich", "zurich"),
        ("VA Long Beach", "va_long_beach"),
        ("São Paulo (Centro)", "sao_paulo_centro"),
        ("Straße", "strasse"),
        ("Ørsted Øst", "orsted_ost"),
        ("Łódź", "lodz"),
        ("2.0", "2_0"),
        ("東京", "group"),  # nothing ASCII is left
    ],
)
def test_slug_keeps_the_base_letter_of_an_accented_one(value, expected):
    assert slug(value) == expected


def test_the_default_adapter_name_transliterates_the_group():
    assert default_name("Zürich", "bottleneck") == "zurich_bottleneck"
    assert default_name("Genève", "lora") == "geneve_lora"
    assert default_name(None, "lora", ["cavité"]) == "cavite_lora"
    assert default_name(None, "head") == "images_head"
    # an image folder or file without groups: its name (every one was "images_head")
    assert default_name(None, "head", data=Path("scans/site_b/")) == "site_b_head"
    assert default_name(None, "lora", data="chest.npz") == "chest_lora"
    assert default_name(None, "lora", data="dicomweb+https://pacs/studies/1.2") == "images_lora"
    assert default_name("B", "lora", data="chest.npz") == "b_lora"  # the group first
    assert len(default_name("é" * 100, "bottleneck")) == 64
