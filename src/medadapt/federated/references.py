"""What the federated adapter is compared with, on the very same held-out patients of each
site: the base alone, an adapter trained at each site on its own rows only (local-only), and
one trained on every site's rows pooled (what sharing the data would give). These run in one
process, on the simulation's single machine: in a real federation the pooled reference does
not exist, which is the point."""

from __future__ import annotations

from typing import Any

import numpy as np

from medadapt.federated.config import FederatedRun
from medadapt.federated.local import score_site
from medadapt.federated.sites import SiteData
from medadapt.train.fitting import adapt, training_config


def reference_scores(run: FederatedRun, data: SiteData, progress=None) -> dict[str, dict]:
    """``{site: {"base": metrics, "local": metrics, "pooled": metrics}}`` with intervals."""
    modality, base = data.modality, data.base
    classes = modality.classes(base.schema)
    score = dict(classes=classes, n_boot=run.n_boot, seed=run.seed)
    config = training_config(modality, "adapter", lr=run.lr, batch_size=run.batch_size)
    if progress:
        progress("pooled reference adapter")
    pooled_rows = np.concatenate([site.train for site in data.sites.values()])
    same = dict(method=run.method, method_options=run.adapter_options, train_config=config,
                seed=run.seed)  # fmt: skip
    pooled = adapt(modality, base, data.samples.subset(pooled_rows), name="pooled",
                   **same).model  # fmt: skip
    out: dict[str, dict[str, Any]] = {}
    for name in data.sites:
        if progress:
            progress(f"local-only reference adapter at {name}")
        test = data.test(name)
        local = adapt(modality, base, data.train(name), name="local", **same).model
        out[name] = {
            "base": score_site(modality, base.model, base.schema, test, adapter=None, **score),
            "local": score_site(modality, local, base.schema, test, adapter="local", **score),
            "pooled": score_site(modality, pooled, base.schema, test, adapter="pooled", **score),
        }
    return out
