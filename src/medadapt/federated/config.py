"""What a federated run is: the base, the sites, the adapter method, the strategy and the
rounds. One frozen, picklable object: the server and every client read the same one."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field, fields
from pathlib import Path

from medadapt import checks
from medadapt.errors import ConfigError
from medadapt.wording import plural
from medadapt.workflows.naming import slug

STRATEGIES = ("fedavg", "fedprox", "fedadam", "fedyogi")
PERSONALISATION = ("none", "head", "finetune", "recalibrate")
#: what a site's personalised adapter is, in a table's header
PERSONAL_LABELS = {"head": "own head", "finetune": "fine-tuned", "recalibrate": "recalibrated"}
#: ... and what it is, in a legend
PERSONAL_MEANINGS = {
    "head": "the shared adapter with a head the site trained on its own rows",
    "finetune": "the shared adapter fine-tuned at the site on its own rows",
    "recalibrate": "the shared adapter's predictions shifted to the outcome rate of the "
    "site's own training patients",
}


def personal_meaning(personalise: str, task: str | None) -> str:
    """:data:`PERSONAL_MEANINGS`, a measured outcome's recalibration said as the mean shift it
    is (a trial's regression legend and card read "the outcome rate")."""
    if personalise == "recalibrate" and task == "regression":
        return ("the shared adapter's predictions shifted so that their mean is the mean "
                "outcome of the site's own training patients")  # fmt: skip
    return PERSONAL_MEANINGS[personalise]


ON_SITE_ERROR = ("stop", "continue")


@dataclass(frozen=True, kw_only=True)
class FederatedRun:
    """A federated adapter run over ``sites`` (values of ``group_column`` in ``data``)."""

    base_dir: Path
    data: Path | None  # simulation: one file holding every site (each reads only its rows)
    label: str | None
    group_column: str | None
    sites: tuple[str, ...]
    id_column: str | None = None
    split_column: str | None = None  # the data's own train/test assignment (FLamby's), if any
    method: str = "lora"
    adapter_options: dict = field(default_factory=dict)  # the method's settings (r=4, ...)
    strategy: str = "fedavg"
    rounds: int = 10
    local_epochs: int = 2
    lr: float | None = None  # None: the modality's adapter learning rate
    batch_size: int | None = None
    proximal_mu: float = 0.1  # FedProx's mu (fedprox only)
    server_lr: float = 0.05  # FedAdam / FedYogi's eta
    personalise: str = "none"  # after the rounds each site keeps its own head, a fine-tune,
    # or the shared adapter recalibrated in the large
    test_fraction: float = 0.3
    seed: int = 0
    n_boot: int = 500  # bootstrap resamples for the final per-site intervals
    clipping_norm: float | None = None  # differential privacy (server-side fixed clipping)
    noise_multiplier: float | None = None
    on_site_error: str = "stop"
    adapter_name: str = "federated"
    base_fingerprint: str | None = None  # deployment: every site's base must be the server's
    options: dict = field(default_factory=dict)  # the modality's options, by field name
    sites_out: Path | None = None  # simulation: each site keeps its personalised adapter in
    # sites_out/<site>/ (deployment: in the folder the site's client names)
    join_timeout: float = 600.0  # seconds every site has to join before the rounds

    def round_notes(self) -> list[str]:
        """A warning for a run of one round: each site trains once from the base alone and
        the shared adapter is the average of those local adapters, never trained from the
        average (federated training's point)."""
        if self.rounds != 1:
            return []
        return [
            "--rounds 1: each site trains once from the base model alone and the shared "
            "adapter is the average of those local adapters, never trained again from the "
            "average; pass --rounds 5 or more (the default is 10) for a federated adapter"
        ]

    def check(self) -> FederatedRun:
        """Every value in range, by flag (before any work); returns self."""
        checks.one_of(self.strategy, "--strategy", STRATEGIES)
        checks.one_of(self.personalise, "--personalise", PERSONALISATION)
        checks.one_of(self.on_site_error, "--on-site-error", ON_SITE_ERROR)
        checks.at_least(self.rounds, "--rounds", 1)
        checks.at_least(self.local_epochs, "--local-epochs", 1)
        checks.at_least(self.seed, "--seed", 0)
        checks.at_least(self.n_boot, "--n-boot", 1)
        checks.at_least(self.proximal_mu, "--proximal-mu", 0)
        checks.positive(self.server_lr, "--server-lr")
        checks.positive(self.lr, "--lr")  # else each site fails in round 1, by another name
        checks.fraction(self.test_fraction, "--test-fraction")
        if len(self.sites) < 2:
            raise ConfigError(
                f"--groups names {plural(len(self.sites), 'site')}; federated training needs at "
                "least two: name every site taking part, comma-separated"
            )
        twice = [site for site, n in Counter(self.sites).items() if n > 1]
        if twice:
            raise ConfigError(f"--groups names {', '.join(map(repr, twice))} twice: name each "
                              "site once")  # fmt: skip
        self._check_site_names_distinct()
        if (self.clipping_norm is None) != (self.noise_multiplier is None):
            raise ConfigError(
                "differential privacy needs both --dp-clip and --dp-noise (or neither)"
            )
        checks.positive(self.clipping_norm, "--dp-clip")
        checks.positive(self.noise_multiplier, "--dp-noise")
        if self.private and self.on_site_error == "continue":
            raise ConfigError(
                "--dp-noise with --on-site-error continue: Flower scales the noise for every "
                "site, so a site that drops out leaves less privacy than --dp-noise says; use "
                "--on-site-error stop with differential privacy"
            )
        return self

    def _check_site_names_distinct(self) -> None:
        """Each site's folder and adapter names come from ``slug(site)``: two sites may not
        share one."""
        by_slug: dict[str, str] = {}
        for site in self.sites:
            other = by_slug.setdefault(slug(site), site)
            if other != site:
                raise ConfigError(
                    f"--groups names sites {other!r} and {site!r}, which would share the folder "
                    f"and adapter name {slug(site)!r}: rename one of them in the data"
                )

    @property
    def private(self) -> bool:
        return self.clipping_norm is not None

    def to_json(self) -> str:
        """The run as JSON (deployment: the Flower app's run config carries it)."""
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        return json.dumps({k: (str(v) if isinstance(v, Path) else v) for k, v in values.items()})

    @classmethod
    def from_json(cls, text: str) -> FederatedRun:
        values = json.loads(text)
        for name in ("base_dir", "data", "sites_out"):
            values[name] = None if values.get(name) is None else Path(values[name])
        values["sites"] = tuple(values["sites"])
        return cls(**values)
