"""A report's table gives a note that several rows share once, below it, the rows pointing
to it ("[1]"), numbered across the report as the terminal numbers a command's: a trial's
report repeated the same paragraph ("no interval: every bootstrap resample gave the same
value ...") in every row."""

from __future__ import annotations

from medadapt.evaluate.report.html import Report


def test_a_shared_note_is_said_once_below_its_table_and_keeps_its_number_after():
    report = Report(title="t")
    same = "no interval: every bootstrap resample gave the same value"
    report.table(["metric", "value", "note"], [["AUPRC", 1.0, same], ["Brier", 0.0, same],
                                               ["AUROC", 0.9, "its own note"]])  # fmt: skip
    report.table(["class", "AUROC", "note"], [["a", 1.0, "wide"], ["b", 1.0, "wide"],
                                              ["c", 1.0, same], ["d", 1.0, same]])  # fmt: skip
    page = report.render()
    assert page.count(same) == 1 and page.count("wide") == 1
    assert page.count("<td>[1]</td>") == 4 and page.count("<td>[2]</td>") == 2
    assert f'<p class="note">[1] {same}</p>' in page
    assert '<p class="note">[2] wide</p>' in page
    assert "<td>its own note</td>" in page  # a note of one row stays in its row
    assert page.index("[1] no interval") < page.index("<th>class</th>")  # under its first table
    report.table(["site", "note"], [["North", same], ["South", "its own"]])  # once, said before
    again = report.render()
    assert again.count(same) == 1 and again.count("<td>[1]</td>") == 5
