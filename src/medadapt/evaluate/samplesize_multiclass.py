"""Minimum sample size to develop a model of a nominal outcome with K > 2 classes (Pate et al.,
"Minimum sample size for developing a multivariable prediction model using multinomial
logistic regression", Stat Methods Med Res 2023;32:555-71), extending Riley et al.'s binary
criteria:

(i)   shrinkage >= ``shrinkage`` (0.9) in every submodel: for each distinct pair of classes
      (k, r), Riley's binary criterion (i) with that pair's Cox-Snell R-squared ``R2_kr`` and
      ``p`` parameters gives ``n_kr`` patients *of those two classes*; overall
      ``n = max n_kr / (phi_k + phi_r)``;
(ii)  optimism in the overall Nagelkerke R-squared <= ``optimism`` (0.05): the binary
      criterion (ii) with all ``P`` parameters, the overall Cox-Snell R-squared and
      ``max_R2cs = 1 - exp(2 sum_k phi_k ln phi_k)``;
(iii) every class's proportion within +-``margin`` (0.05):
      ``n = max_k (1.96 / margin)^2 phi_k (1 - phi_k)``.

Parameters are predictor parameters: the K - 1 intercepts (one per submodel) are not among
them, as the binary intercept is not among Riley et al.'s ``p``.

With two classes the three criteria are Riley et al.'s binary ones exactly (tested).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from itertools import combinations

from medadapt.evaluate.samplesize import Criterion, Z, make_criterion, shrinkage_n


def max_cox_snell_multiclass(prevalences: Sequence[float]) -> float:
    """The largest Cox-Snell R-squared an outcome with these class proportions allows."""
    return 1 - math.exp(2 * sum(phi * math.log(phi) for phi in prevalences))


def development_multiclass(
    *, parameters: int, total_parameters: int, prevalences: Sequence[float],
    r2_pairs: Mapping[tuple[int, int], float], r2_cs: float, shrinkage: float = 0.9,
    optimism: float = 0.05, margin: float = 0.05,
) -> list[Criterion]:  # fmt: skip
    """Pate et al.'s criteria (see the module docstring). ``parameters``: those of one
    submodel (pairwise criterion i); ``total_parameters``: all of them (criterion ii);
    ``r2_pairs[(k, r)]``: the anticipated Cox-Snell R-squared of the pair's submodel, for
    every pair k < r of class indices; ``r2_cs``: the overall one. Events are the smallest
    class's count, events per parameter per ``total_parameters``."""
    phis = [float(p) for p in prevalences]
    if len(phis) < 2 or any(not 0 < p < 1 for p in phis) or abs(sum(phis) - 1) > 1e-6:
        raise ValueError(f"class proportions must be in (0, 1) and sum to 1; got {phis}")
    top = max_cox_snell_multiclass(phis)
    if not 0 < r2_cs < top:
        raise ValueError(f"the overall Cox-Snell R-squared must be in (0, {top:.3f}); "
                         f"got {r2_cs:g}")  # fmt: skip
    rarest = min(phis)
    pairwise = max(
        shrinkage_n(parameters, r2_pairs[(k, r)], shrinkage) / (phis[k] + phis[r])
        for k, r in combinations(range(len(phis)), 2)
    )
    s_vh = r2_cs / (r2_cs + optimism * top)
    return [
        make_criterion("i", f"expected shrinkage >= {shrinkage:g} in every pair of classes",
                   pairwise, rarest, total_parameters),
        make_criterion("ii", f"optimism in Nagelkerke R-squared <= {optimism:g}",
                   shrinkage_n(total_parameters, r2_cs, s_vh), rarest, total_parameters),
        make_criterion("iii", f"every class's proportion within +-{margin:g}",
                   max((Z / margin) ** 2 * p * (1 - p) for p in phis), rarest,
                   total_parameters),
    ]  # fmt: skip


def pair_prevalence(prevalences: Sequence[float], pair: tuple[int, int]) -> float:
    """The proportion of class ``pair[0]`` among patients of the two classes."""
    k, r = pair
    return prevalences[k] / (prevalences[k] + prevalences[r])
