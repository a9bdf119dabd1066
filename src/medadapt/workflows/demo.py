"""``medadapt demo``: the main job on the bundled data.

Default protocol: a heart-disease model built at Cleveland and Hungary gets an adapter for VA
Long Beach and for Switzerland, compared with six alternatives; then the personalised-medicine
example on scikit-learn's diabetes data (one adapter per patient group). FLamby protocol: the
Fed-Heart-Disease benchmark with per-centre adapters, beside FLamby's published figures.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from medadapt.data import diabetes, heart
from medadapt.data.schema import TableSchema
from medadapt.errors import ConfigError
from medadapt.fileio import atomic_write_bytes
from medadapt.workflows.flamby import run_flamby
from medadapt.workflows.personalise import run_personalisation
from medadapt.workflows.site_adaptation import STRATEGIES, SiteStudyConfig, run_site_study

SOURCE = ("Cleveland", "Hungary")
TARGETS = ("VA Long Beach", "Switzerland")
PROTOCOLS = ("default", "flamby")


def heart_schema(frame) -> TableSchema:
    return TableSchema.infer(
        frame,
        label=heart.LABEL,
        positive_above=heart.POSITIVE_ABOVE,
        id_column=heart.ID,
        group_column=heart.GROUP,
    )


def run_default(
    out_dir: Path, *, seed: int = 0, n_boot: int = 1000, progress: Callable[[str], None] | None
) -> dict[str, Any]:
    """The default protocol; its warnings are said once it has run, each naming the centre
    and the strategies it arose for (``results["warnings"]``, :mod:`.demo_warnings`)."""
    from medadapt.workflows.demo_warnings import tagged_warnings

    with tagged_warnings(progress, centres=TARGETS, strategies=STRATEGIES) as (step, found):
        results = _run_default(out_dir, seed=seed, n_boot=n_boot, progress=step)
    results["warnings"] = [w.to_json() for w in found]
    return results


def _run_default(
    out_dir: Path, *, seed: int, n_boot: int, progress: Callable[[str], None]
) -> dict[str, Any]:
    frame = heart.load_heart_disease()
    source = frame[frame[heart.GROUP].isin(SOURCE)]
    schema = heart_schema(source)  # fitted on source centres; target categories may be unseen
    config = SiteStudyConfig(
        group_column=heart.GROUP,
        source_groups=SOURCE,
        target_groups=TARGETS,
        seed=seed,
        n_boot=n_boot,
    )
    results = run_site_study(frame, schema, config, out_dir=out_dir, progress=progress)
    results["data"] = {
        "source": heart.CITATION,
        "n_patients": len(frame),
        "label": "heart disease present (num > 0)",
        "centres": {
            centre: {
                "n": int((frame[heart.GROUP] == centre).sum()),
                "n_positive": int((frame.loc[frame[heart.GROUP] == centre, heart.LABEL] > 0).sum()),
                "missing_share": _missing_share(frame[frame[heart.GROUP] == centre], schema),
            }
            for centre in heart.CENTRES
        },
        "features": [f.name for f in schema.features],
    }
    dia_frame = diabetes.load_diabetes_frame()
    dia_schema = TableSchema.infer(
        dia_frame, label=diabetes.LABEL, task="regression", exclude=[diabetes.GROUP]
    )
    progress("personalised models (diabetes): one adapter per sex group")
    results["personalised"] = {
        "data": diabetes.CITATION,
        **run_personalisation(
            dia_frame,
            dia_schema,
            group_column=diabetes.GROUP,
            seed=seed,
            n_boot=n_boot,
            out_dir=out_dir / "personalised",
        ),
    }
    return results


def _missing_share(rows, schema: TableSchema) -> dict[str, float]:
    """Share of missing values per feature (a count summary, no rows)."""
    out = {}
    for feature in schema.features:
        share = float(rows[feature.name].isna().mean()) if feature.name in rows else 1.0
        if share > 0:
            out[feature.name] = round(share, 3)
    return out


def run_demo(
    out_dir: str | Path,
    *,
    protocol: str = "default",
    seed: int = 0,
    seeds: int = 5,
    n_boot: int = 1000,
    progress: Callable[[str], None] | None = None,
    overwrite: bool = False,
) -> dict[str, Any]:
    """Run a demo protocol; write ``results.json`` and ``report.html`` into ``out_dir``. An
    earlier demo's output there is replaced; any other non-empty ``out_dir`` is refused unless
    ``overwrite`` (its base and adapters would replace files of the same names)."""
    if protocol not in PROTOCOLS:
        raise ConfigError(f"--protocol must be one of {PROTOCOLS}, got {protocol!r}")
    out_dir = Path(out_dir)
    held = out_dir.is_dir() and any(out_dir.iterdir())
    if held and not overwrite and not (out_dir / "results.json").is_file():
        raise ConfigError(
            f"{out_dir} is not empty and holds no earlier demo; choose a new or empty "
            "directory, or pass overwrite=True to write into it"
        )
    out_dir.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(1)  # small models: one thread is faster than two (no sync overhead)
    started = time.perf_counter()
    from medadapt.workflows import demo_report

    if protocol == "default":
        results = run_default(out_dir, seed=seed, n_boot=n_boot, progress=progress)
        report = demo_report.default_report(results)
    else:
        results = run_flamby(seeds=seeds, n_boot=min(n_boot, 500), progress=progress)
        report = demo_report.flamby_report(results)
    results["protocol"] = protocol
    results["seconds"] = round(time.perf_counter() - started, 1)
    results["summary"] = report.summary_lines
    report.report.write(out_dir / "report.html")
    public = _without_small_cells({k: v for k, v in results.items() if not k.startswith("_")})
    atomic_write_bytes(
        out_dir / "results.json", json.dumps(public, indent=2, default=_json).encode()
    )
    return results


def _without_small_cells(value: Any) -> Any:
    """A copy in which every ``subgroups`` table has its counts below 5 suppressed."""
    from medadapt.evaluate.small_cells import mask_subgroups

    if isinstance(value, dict):
        return {
            k: mask_subgroups(v) if k == "subgroups" else _without_small_cells(v)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_without_small_cells(v) for v in value]
    return value


def _json(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")
