"""What the served registry's site_c@1 was recorded with (its test figures decide it), and
the rows it held out (answers on them carry no in-sample flag)."""

from __future__ import annotations

import json

import pandas as pd

#: site C's 120 rows leave 19 test patients (5 without the outcome): its AUROC's interval
#: reaches 0.5, and its calibration slope cannot be fitted on too many resamples while its
#: observed/expected ratio is measured (1.00, 0.77 to 1.31); every answer of site_c@1 says
#: both (``test_site_c_is_recorded_not_shown_better_than_chance``)
SITE_C_CAUTIONS = [
    "AUROC not shown better than chance",
    "calibration: average only, slope unmeasured",
]
SITE_C_CAUTION = f"caution, adapter site_c@1 was recorded with: {'; '.join(SITE_C_CAUTIONS)}"


def held_out_rows(served_registry: dict, name: str = "site_c") -> pd.DataFrame:
    """The rows adapter ``name`` held out (its split file's test positions), label and all:
    sent to the server, they are not rows it trained on (no ``trained_on``, no in-sample
    note)."""
    split = json.loads((served_registry["adapters"][name] / "split.json").read_text())
    return pd.read_csv(served_registry["data"]).loc[split["test_positions"]]
