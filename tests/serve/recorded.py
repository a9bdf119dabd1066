"""What the served registry's site_c@1 was recorded with (its test figures decide it)."""

#: site C's 120 rows leave 19 test patients (5 without the outcome): its AUROC's interval
#: reaches 0.5, and its calibration slope cannot be fitted on too many resamples while its
#: observed/expected ratio is measured (1.00, 0.77 to 1.31); every answer of site_c@1 says
#: both (``test_site_c_is_recorded_not_shown_better_than_chance``)
SITE_C_CAUTIONS = [
    "AUROC not shown better than chance",
    "calibration: average only, slope unmeasured",
]
SITE_C_CAUTION = f"caution, adapter site_c@1 was recorded with: {'; '.join(SITE_C_CAUTIONS)}"
