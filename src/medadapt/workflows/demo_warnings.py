"""The demo's warnings, each naming the centre and the strategies it is about.

The demo trains and scores seven strategies at two centres. The table API warns about the
rows it is given (a feature empty in all of them, rows lacking most features, too few of a
class for a new model) without knowing which centre or strategy they are: a trial's demo
printed eight warnings and none named its hospital. Here the warnings raised while the demo
runs are caught, each tagged with the step it arose in (the steps the progress messages
name), and said once afterwards, with every strategy it arose for and the rows it is about
(the demo says, without a progress step, which rows a strategy reads next: ``"Switzerland:
lora: 73 training rows"``, then ``"Switzerland: lora: 50 test rows"``):

    VA Long Beach, 80 test rows (every strategy): 1 of the model's 13 feature columns is empty
    in all 80 rows

>>> tag("VA Long Beach", ["base_only", "lora"], ("base_only", "lora"))
'VA Long Beach (every strategy)'
>>> tag("Switzerland", ["scratch_local"], ("base_only", "scratch_local"))
'Switzerland (new model on the target data only)'
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from medadapt.evaluate.report.formatting import listed
from medadapt.evaluate.sufficiency import as_comparison, as_demo_base
from medadapt.workflows.labels import STRATEGY_LABELS
from medadapt.workflows.strategies import NEW_MODELS


@dataclass
class DemoWarning:
    """One warning of the demo: where it arose (``where``: a centre and the rows it is about,
    or what a step that is no centre's was about) and for which strategies, its text, and the
    line that says it."""

    where: str
    strategies: list[str]
    message: str
    category: type[Warning] = UserWarning
    said: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"where": self.where, "strategies": self.strategies, "message": self.message,
                "said": self.said}  # fmt: skip


@dataclass
class _Steps:
    """The steps the progress messages named, each with how many warnings were caught before
    it began (a warning belongs to the last step begun before it)."""

    centres: Sequence[str]
    strategies: Sequence[str]
    begun: list[tuple[int, str, str | None, str | None]] = field(default_factory=list)

    def where(self, message: str) -> tuple[str, str | None, str | None]:
        """``"VA Long Beach: lora"`` -> ``("VA Long Beach", "lora", None)``, ``"VA Long Beach:
        lora: 80 test rows"`` -> ``("VA Long Beach", "lora", "80 test rows")``; a step that is
        no centre's strategy (the base model's training, the diabetes example) -> its words."""
        parts = message.split(": ")
        if len(parts) == 3 and parts[2].endswith(" rows"):
            centre, strategy, rows = parts
            if centre in self.centres and strategy in self.strategies:
                return centre, strategy, rows
        centre, _, strategy = message.rpartition(": ")
        if centre in self.centres and strategy in self.strategies:
            return centre, strategy, None
        if message.startswith("training the base model on "):
            base = message.removeprefix("training the base model on ")
            return f"{base} (base model)", None, None
        return message.split(":")[0], None, None


def tag(where: str, strategies: list[str], every: Sequence[str]) -> str:
    """Where a warning arose, in words: the centre and its strategies ("every strategy"
    where all of those the centre ran had it)."""
    if not strategies:
        return where
    if len(every) > 1 and set(every) <= set(strategies):
        return f"{where} (every strategy)"
    return f"{where} ({listed(STRATEGY_LABELS.get(s, s) for s in strategies)})"


@contextlib.contextmanager
def tagged_warnings(
    progress: Callable[[str], None] | None, *, centres: Sequence[str], strategies: Sequence[str]
) -> Iterator[tuple[Callable[[str], None], list[DemoWarning]]]:
    """Run the demo's steps within: gives the progress callback to pass on (it records each
    step, then calls ``progress``) and the list the warnings fill, each said once on exit as a
    warning naming its centre and strategies (``DemoWarning.said``)."""
    steps = _Steps(centres, strategies)
    found: list[DemoWarning] = []
    caught: list[warnings.WarningMessage] = []
    try:
        with warnings.catch_warnings(record=True) as recorded:
            warnings.simplefilter("always", UserWarning)  # every strategy's, not the first's
            caught = recorded

            def step(message: str) -> None:
                steps.begun.append((len(caught), *steps.where(message)))
                if progress is not None and steps.begun[-1][3] is None:  # rows: no new step
                    progress(message)

            yield step, found
    finally:  # said even where a step failed: they may tell why
        found += _grouped(caught, steps)
        for said in found:
            warnings.warn(said.said, said.category, stacklevel=3)


def _grouped(caught: list[warnings.WarningMessage], steps: _Steps) -> list[DemoWarning]:
    """Each distinct warning once per centre (or step), with the strategies it arose for."""
    by_key: dict[tuple[str, str, type[Warning]], DemoWarning] = {}
    ran: dict[str, list[str]] = {}  # the strategies each centre ran
    for _, centre, strategy, rows in steps.begun:
        if strategy is not None and rows is None:
            ran.setdefault(centre, []).append(strategy)
    centre_of: dict[str, str] = {}
    for i, caught_one in enumerate(caught):
        centre, strategy, rows = "", None, None
        for at, step_centre, step_strategy, step_rows in steps.begun:
            if at <= i:
                centre, strategy, rows = step_centre, step_strategy, step_rows
        where = f"{centre}, {rows}" if rows else centre
        centre_of[where] = centre
        message = " ".join(str(caught_one.message).split())
        # a comparison arm, or the demo's own base model on the benchmark's rows
        said_as = as_comparison if strategy in NEW_MODELS else as_demo_base
        message = said_as(message)
        key = (where, message, caught_one.category)
        entry = by_key.setdefault(key, DemoWarning(where, [], message, caught_one.category))
        if strategy is not None and strategy not in entry.strategies:
            entry.strategies.append(strategy)
    for entry in by_key.values():
        where = tag(entry.where, entry.strategies, ran.get(centre_of[entry.where], []))
        entry.said = f"{where}: {entry.message}" if where else entry.message
    return list(by_key.values())
