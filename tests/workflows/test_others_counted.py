"""``evaluate`` of an adapter on its own source scores its held-out samples and counts the
others (a trial's 140 images read "24 images (the adapter's 24 held-out images)" and nothing
of the 116 others); held-out samples matching training ones by content are subtracted from the
held-out count, before the others are counted (a review read "4 held-out rows; ... the 6
others: ..., minus 1" where 3 were scored)."""

from __future__ import annotations

import re

import numpy as np

from medadapt.workflows.splitting import to_score


class _Stub:
    """A modality whose splits are boolean masks over ten samples."""

    noun = "rows"

    def in_split(self, data, samples, split, which):
        return np.zeros(10, dtype=bool) if not split else np.asarray(split[which], dtype=bool)

    def same_source(self, split, data, samples):
        return True


def _mask(*on: int) -> list[bool]:
    return [i in on for i in range(10)]


def test_the_others_are_counted_after_what_is_scored_and_add_up():
    base = {"train": _mask(0, 1, 2, 3, 4, 6), "test": _mask()}
    own = {"train": _mask(8, 9), "test": _mask(4, 5, 6, 7)}  # 4 and 6: rows the base trained on
    kept, sentence, dropped = to_score(_Stub(), None, None, np.arange(10), base_split=base,
                                       own_split=own, group=None, group_column=None)  # fmt: skip
    assert kept.tolist() == [5, 7] and dropped == {"base": 2}
    assert sentence == (
        "the adapter's 4 held-out rows, minus 2 that match rows the base model trained on (by "
        "content); of the 10 in --data, the 6 others: 2 trained the adapter, 4 the base model"
    )
    held, minus, total, others, *counts = map(int, re.findall(r"\d+", sentence))
    assert held - minus == len(kept) and others == total - held and sum(counts) == others
    alone = {"train": _mask(0, 1), "test": _mask(2, 3)}
    _, said, _ = to_score(_Stub(), None, None, np.arange(10), base_split=None, own_split=alone,
                          group=None, group_column=None)  # fmt: skip
    assert said.endswith("the 8 others: 2 trained the adapter, 6 neither (another group's, or "
                         "the base's held-out ones: pass --group to score a group's)")  # fmt: skip
