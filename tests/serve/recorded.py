"""What the served registry's site_c@1 was recorded with (its test figures decide it)."""

#: site C's 120 rows leave about 36 test patients: its AUROC's interval reaches 0.5, and
#: every answer of site_c@1 says so (``test_site_c_is_recorded_not_shown_better_than_chance``)
SITE_C_CAUTION = "caution, adapter site_c@1 was recorded with: AUROC not shown better than chance"
