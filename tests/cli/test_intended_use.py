"""An adapter's recorded intended use names what it was adapted to: a trial's new-class
card read "adaptation of an existing image model to the named group", which it named
nowhere."""

from __future__ import annotations

import json
from types import SimpleNamespace

from medadapt.modalities.base import ADAPTED_TO, Modality
from medadapt.workflows.adapt import _adapted_to


def test_a_group_adapter_s_intended_use_names_its_group(workspace):
    _, paths = workspace
    recorded = json.loads((paths["adapter"] / "adapter.json").read_text())["metadata"]
    assert recorded["intended_use"] == (
        "Research use: adaptation of an existing model to the patients of dataset = VA Long "
        "Beach; validate locally before any clinical use."
    )


def test_new_classes_and_ungrouped_data_are_named_as_such():
    picked = SimpleNamespace(where="site = B")
    grown, same = SimpleNamespace(new_classes=["cavity"]), SimpleNamespace(new_classes=[])
    assert _adapted_to(picked, "B", grown) == "new classes ('cavity') beside the base model's"
    assert _adapted_to(picked, None, same) == ADAPTED_TO
    assert "{target}" in Modality.intended_use  # filled by adapt, never said as a template
