"""Option values checked before any work, each error naming its command-line flag.

The library checks its own arguments too (with Python names); these checks run first so
that a user of the command line reads ``--test-fraction``, never ``test_fraction=``.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from medadapt.errors import ConfigError
from medadapt.wording import plural


def is_number(text: str) -> bool:
    """Whether ``text`` reads as a number (``"1"``, ``"0.5"``, ``"1e3"``): label values such
    as ``0``/``1`` order themselves, text labels need a word on which is positive."""
    try:
        float(text)
    except ValueError:
        return False
    return True


def fraction(value: float | None, flag: str, *, closed: bool = False) -> None:
    """``0 < value < 1`` (``closed``: ``0 < value <= 1``)."""
    if value is None:
        return
    ok = 0.0 < value <= 1.0 if closed else 0.0 < value < 1.0
    if not ok:
        where = "above 0 and at most 1" if closed else "above 0 and below 1"  # 0 is "between"
        percent = (f" (a percentage? write {value / 100:g} for {value:g}%)"
                   if 1 < value <= 100 else "")  # fmt: skip
        raise ConfigError(f"{flag} must be a share {where}; got {value:g}{percent}")


#: the largest ``--seed``: the random generators (numpy, scikit-learn) take 32-bit seeds
MAX_SEED = 2**32 - 1


def seed(value: int | None, flag: str = "--seed") -> None:
    """``0 <= value <= 4294967295`` (larger seeds fail deep in scikit-learn)."""
    if value is not None and not 0 <= value <= MAX_SEED:
        raise ConfigError(f"{flag} must be between 0 and {MAX_SEED}; got {value}")


def of_type(value: Any, name: str, kind: type | tuple[type, ...], example: str) -> None:
    """A Python argument of the wrong type, named with what to pass (``example``), before it
    fails deep inside with Python's own words (``replace() should be called on dataclass
    instances``). ``None`` passes: the caller's default.

    >>> of_type({"epochs": 2}, "train_config", int, "ma.TrainConfig(epochs=2)")
    Traceback (most recent call last):
    medadapt.errors.ConfigError: train_config must be ma.TrainConfig(epochs=2), not a dict
    """
    if value is not None and (isinstance(value, bool) or not isinstance(value, kind)):
        raise ConfigError(f"{name} must be {example}, not a {type(value).__name__}")


def finite(value: float | None, flag: str) -> None:
    """A float option must be a number: ``nan`` and ``inf`` pass every ``<``/``>`` check (or
    fail far from the flag that caused them)."""
    if value is not None and not math.isfinite(value):
        raise ConfigError(f"{flag} must be a finite number; got {value}")


def finite_numbers(text: str | None, flag: str) -> None:
    """Each number of a comma-separated option (``--normalize 0.5,0.2``) is finite (words
    such as ``auto`` are left to the option's own check)."""
    if not isinstance(text, str):
        return
    for part in (p.strip() for p in text.split(",")):
        try:
            number = float(part)
        except ValueError:
            continue
        if not math.isfinite(number):
            raise ConfigError(f"{flag} {text}: {part} is not a number; give finite numbers")


#: string options that hold numbers (checked by :func:`command_values`)
NUMBER_LISTS = ("normalize", "spacing", "window", "fractions")


def command_values(values: Mapping[str, Any], flags: Mapping[str, str]) -> None:
    """What every command checks of its values first: each float finite, each number of a
    number-list option finite, ``--seed`` in range (``flags``: parameter name -> flag)."""
    for name, value in values.items():
        flag = flags.get(name, f"--{name.replace('_', '-')}")
        if isinstance(value, float):
            finite(value, flag)
        elif name in NUMBER_LISTS:
            finite_numbers(value, flag)
    if isinstance(values.get("seed"), int):
        seed(values["seed"], flags.get("seed", "--seed"))
    within_ceilings(values, flags)


TRIMMED = ("group",)
"""Options naming a value of the group column, which is read without the spaces around it
(:func:`medadapt.data.tables.group_labels`): given with spaces, the option is read so too."""


def trimmed_names(values: Mapping[str, Any]) -> dict[str, Any]:
    """``values`` with each of :data:`TRIMMED` given as text without surrounding spaces (a
    trial's ``--group "VA Long Beach  "`` matched its rows but was stored and echoed with
    the spaces, as another group than the registry's ``VA Long Beach``)."""
    return {name: value.strip() if name in TRIMMED and isinstance(value, str) else value
            for name, value in values.items()}  # fmt: skip


#: counts whose work is planned before the first step: far above these a command would run
#: for days (or run out of memory) without a word
CEILINGS = {"seeds": 1000, "n_boot": 100_000}


def within_ceilings(values: Mapping[str, Any], flags: Mapping[str, str] | None = None) -> None:
    """Each count of :data:`CEILINGS` among ``values`` (``--seeds``, ``--n-boot``) at most its
    ceiling (``flags``: parameter name -> flag, when not ``--name``)."""
    flags = flags or {}
    for name, ceiling in CEILINGS.items():
        if isinstance(values.get(name), int):
            at_most(values[name], flags.get(name, f"--{name.replace('_', '-')}"), ceiling)


def at_most(value: float | None, flag: str, maximum: float, why: str = "") -> None:
    if value is not None and value > maximum:
        got = value if isinstance(value, int) else f"{value:g}"
        raise ConfigError(f"{flag} must be at most {maximum:g}; got {got}{why}")


def available_cores() -> int:
    """The CPU cores this process may run on: its affinity mask (``taskset``, a container's
    ``--cpuset-cpus``), which ``os.cpu_count()`` ignores; the machine's count where the
    system has no affinity (macOS, Windows)."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def cores(value: int | None, flag: str, *, default: int = 1) -> None:
    """At least 1 and at most the CPU cores this process may use (more threads or processes
    than cores only slow each other, and many thousands exhaust memory); the option's
    ``default`` is always accepted, so a one-core machine runs without the option."""
    at_least(value, flag)
    available = available_cores()
    why = f" (this process may use {plural(available, 'CPU core')})"
    at_most(value, flag, max(available, default), why)


def at_least(value: float | None, flag: str, minimum: float = 1) -> None:
    if value is not None and value < minimum:
        raise ConfigError(f"{flag} must be at least {minimum:g}; got {value:g}")


def positive(value: float | None, flag: str) -> None:
    if value is not None and not value > 0:
        raise ConfigError(f"{flag} must be positive; got {value:g}")


def one_of(value: Any, flag: str, choices: Iterable[Any]) -> None:
    choices = list(choices)
    if value is not None and value not in choices:
        meant = did_you_mean(str(value), choices)  # "--method lroa": did you mean 'lora'?
        raise ConfigError(f"{flag} must be one of {', '.join(map(str, choices))}; got "
                          f"{value!r}{meant}")  # fmt: skip


def names(value: str | None, flag: str, *, required: bool = False) -> list[str]:
    """``"A,B"`` -> ``["A", "B"]``; an option given but empty (``--groups ''``) is refused
    rather than read as "no filter" (a ``required`` one is not offered to be left out)."""
    if value is None:
        return []
    parts = [part.strip() for part in value.split(",") if part.strip()]
    if not parts:
        out = "" if required else ", or leave the option out"
        raise ConfigError(f"{flag} is empty; name at least one (comma-separated){out}")
    return parts


def numbers(value: str | None, flag: str) -> list[float]:
    """``"0.1,0.5,1"`` -> floats, naming the part that is not a number."""
    out = []
    for part in names(value, flag):
        try:
            out.append(float(part))
        except ValueError:
            raise ConfigError(
                f"{flag} must be comma-separated numbers like 0.1,0.5,1; {part!r} is not a number"
            ) from None
    return out


def known(values: Sequence[str], flag: str, choices: Iterable[str]) -> None:
    choices = list(choices)
    unknown = [v for v in values if v not in choices]
    if unknown:
        raise ConfigError(
            f"{flag}: {', '.join(map(repr, unknown))} unknown; choose from {', '.join(choices)}"
        )


def port(value: int, flag: str = "--port") -> None:
    if not 1 <= value <= 65535:
        raise ConfigError(f"{flag} must be a TCP port number (1-65535); got {value}")


def distinct_columns(roles: dict[str, str | None]) -> None:
    """``--label``, ``--id-column`` and ``--group-column`` must name different columns."""
    seen: dict[str, str] = {}
    for flag, column in roles.items():
        if column is None:
            continue
        if column in seen:
            raise ConfigError(
                f"{flag} {column} is also the {seen[column]} column; give each role its own column"
            )
        seen[column] = flag


def named_with_hints(
    missing: Sequence[str], options: Sequence[object], *, among: int | None = None
) -> tuple[str, str, bool]:
    """``missing`` names as a refusal lists them, each with its :func:`did_you_mean` where
    there are several (a trial's second misspelt site had no hint, and was said only after
    the first was mended): ``(names, the hint after the list, whether any was offered)``.

    >>> named_with_hints(["Hungray", "VA Long beach"], ["Hungary", "VA Long Beach"])[0]
    "'Hungray' (did you mean 'Hungary'?), 'VA Long beach' (did you mean 'VA Long Beach'?)"
    >>> named_with_hints(["Hungray"], ["Hungary"])[:2]
    ("'Hungray'", "; did you mean 'Hungary'?")
    """
    meant = [did_you_mean(str(name), options, among=among) for name in missing]
    if len(missing) == 1:
        return repr(missing[0]), meant[0], bool(meant[0])
    named = ", ".join(f"{name!r}{f' ({hint[2:]})' if hint else ''}"
                      for name, hint in zip(missing, meant, strict=True))  # fmt: skip
    return named, "", any(meant)


def did_you_mean(name: str, options: Sequence[object], *, among: int | None = None) -> str:
    """``"; did you mean 'Beta'?"`` for a name given that differs from one of ``options`` in
    case only, or is spelt closely like one (empty when none is, or when there are more than
    ``among`` options: a patient-id column's values are never shown, not even the closest).

    >>> did_you_mean("beta", ["Alpha", "Beta"]), did_you_mean("Site", ["site", "age"])
    ("; did you mean 'Beta'?", "; did you mean 'site'?")
    >>> did_you_mean("region", ["site", "age"]), did_you_mean("P12", ["P12 "] * 11, among=10)
    ('', '')
    >>> did_you_mean("nmu", ["age", "num"])  # two neighbours swapped, however short
    "; did you mean 'num'?"
    >>> did_you_mean("nun", ["age", "num"])  # one letter off
    "; did you mean 'num'?"
    >>> did_you_mean("loRA2", ["bottleneck", "lora", "dora"])  # close, whatever the case
    "; did you mean 'lora'?"
    """
    import difflib

    if among is not None and len(options) > among:
        return ""
    texts = [str(o) for o in options]
    alike = [t for t in texts if t.casefold() == name.casefold()]
    alike = alike or [t for t in texts if _neighbours_swapped(name.casefold(), t.casefold())]
    folded = {t.casefold(): t for t in texts}  # "loRA2" is close to "lora" (a trial's had no hint)
    alike = alike or [folded[t] for t in difflib.get_close_matches(name.casefold(), list(folded),
                                                                   n=1, cutoff=0.8)]  # fmt: skip
    alike = alike or _one_letter_off(name, texts)
    alike = alike or _holding_as_words(name, texts)
    return f"; did you mean {alike[0]!r}?" if alike else ""


def _one_letter_off(name: str, texts: Sequence[str]) -> list[str]:
    """The one option of ``name``'s length (3 letters or more) that differs from it in one
    letter, in any case: a trial's ``--label nun`` for ``num``, too short for a close match.

    >>> _one_letter_off("nun", ["age", "num"]), _one_letter_off("cat", ["car", "cab"])
    (['num'], [])
    """
    if len(name) < 3:
        return []
    folded = name.casefold()
    found = [t for t in texts if len(t) == len(name)
             and sum(a != b for a, b in zip(t.casefold(), folded, strict=True)) == 1]  # fmt: skip
    return found if len(found) == 1 else []


def _holding_as_words(name: str, texts: Sequence[str]) -> list[str]:
    """The one option holding every word of ``name`` among its own words, in any case (a
    trial's ``MRN`` for ``Patient MRN``, ``Budapest`` for ``Budapest (Hungary)``); none where
    several do (no guess among them) or ``name`` has no word.

    >>> _holding_as_words("MRN", ["Patient MRN", "age"]), _holding_as_words("id", ["a id", "b id"])
    (['Patient MRN'], [])
    """
    import re

    wanted = set(re.findall(r"\w+", name.casefold()))
    if not wanted:
        return []
    holding = [t for t in texts if wanted <= set(re.findall(r"\w+", t.casefold()))]
    return holding if len(holding) == 1 else []


def _neighbours_swapped(a: str, b: str) -> bool:
    """Whether ``a`` is ``b`` with two neighbouring characters swapped (``nmu``/``num``)."""
    differ = [i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y]
    return (len(a) == len(b) and len(differ) == 2 and differ[1] == differ[0] + 1
            and a[differ[0]] == b[differ[1]] and a[differ[1]] == b[differ[0]])  # fmt: skip
