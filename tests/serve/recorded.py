"""What the served registry's site_c@1 was recorded with (its test figures decide it)."""

#: site C's 120 rows leave about 36 test patients: its AUROC's interval reaches 0.5, too few
#: positives for a calibration slope, and every answer of site_c@1 says both
#: (``test_site_c_is_recorded_not_shown_better_than_chance``)
SITE_C_CAUTIONS = [
    "AUROC not shown better than chance",
    "calibration unmeasured: a ranking, not a risk",
]
SITE_C_CAUTION = f"caution, adapter site_c@1 was recorded with: {'; '.join(SITE_C_CAUTIONS)}"
