"""The continuous (Riley et al. 2019 part I) and multiclass (Pate et al. 2023) sample-size
criteria: published examples, and the multiclass criteria reducing to the binary ones."""

from __future__ import annotations

import math

import pytest

from medadapt.evaluate.samplesize import development, max_cox_snell
from medadapt.evaluate.samplesize_continuous import (
    development_continuous,
    intercept_interval,
    shrinkage_at,
)
from medadapt.evaluate.samplesize_multiclass import (
    development_multiclass,
    max_cox_snell_multiclass,
)


@pytest.mark.parametrize(
    ("r2", "parameters", "expected"),
    [  # pmsampsize's documented continuous examples (criteria i, ii, iii)
        (0.2, 25, (918, 401, 259)),  # Riley et al. BMJ 2020 / pmsampsize help: final 918
        (0.3, 25, (574, 351, 259)),
        (0.2, 50, (1924, 801, 284)),
        (0.5, 100, (1264, 1001, 334)),
    ],
)
def test_development_continuous_published_examples(r2, parameters, expected):
    criteria = development_continuous(parameters=parameters, r2=r2)
    assert tuple(c.n for c in criteria) == expected
    assert all(c.per_parameter is None and c.to_dict()["events"] is None for c in criteria)


def test_continuous_shrinkage_target_and_the_shrinkage_each_criterion_implies():
    """pmsampsize's example: R2 0.89, 30 parameters, target shrinkage 0.84 -> 32 / 67 / 264
    patients (final 264), with expected shrinkage 0.845 / 0.851 / 0.954 at those sizes.

    medadapt differs on criterion (i) only, on purpose: pmsampsize searches up from p + 2 = 32
    and stops at once, where the expected shrinkage is 0.845 only because 32 patients almost
    fit 30 parameters exactly (it dips to 0.81 at 40 and is back at 0.84 only at 60).
    medadapt reports the n from which the shrinkage stays at least 0.84: 60. The final size,
    set by criterion (iii), is the published 264."""
    criteria = development_continuous(parameters=30, r2=0.89, shrinkage=0.84)
    assert [c.n for c in criteria] == [60, 67, 264]
    assert max(c.n for c in criteria) == 264
    implied = [round(shrinkage_at(c.n, parameters=30, r2=0.89), 3) for c in criteria]
    assert implied == [0.84, 0.851, 0.954]
    assert round(shrinkage_at(32, parameters=30, r2=0.89), 3) == 0.845  # pmsampsize's n
    assert min(shrinkage_at(n, parameters=30, r2=0.89) for n in range(32, 60)) < 0.82


def test_continuous_shrinkage_criterion_grows_with_the_parameters():
    """With tens of thousands of parameters (a fully fine-tuned network) the shrinkage at
    n = p + 2 already exceeds 0.9 (the dip artefact above); criterion (i) must still grow with
    p: about p / (0.1 ln(1 / (1 - R2 / 0.9))) patients, 17 per parameter at R2 0.409, never
    fewer than for a smaller model."""
    sizes = {}
    for parameters in (4_161, 20_000, 68_821):
        first = development_continuous(parameters=parameters, r2=0.409)[0].n
        approximation = parameters / (0.1 * math.log(1 / (1 - 0.409 / 0.9)))
        assert first == pytest.approx(approximation, rel=0.05), parameters
        assert shrinkage_at(first, parameters=parameters, r2=0.409) >= 0.9
        assert shrinkage_at(first - 1, parameters=parameters, r2=0.409) < 0.9
        sizes[parameters] = first
    assert shrinkage_at(20_002, parameters=20_000, r2=0.409) > 0.9  # the artefact is there
    assert sizes[4_161] < sizes[20_000] < sizes[68_821]


def test_continuous_intercept_interval_at_the_final_size():
    """pmsampsize's example (intercept 1.9, SD 0.6, R2 0.2, 25 parameters): at n = 918 the
    95% interval of the mean outcome is (1.87, 1.93), well inside the 10% margin, so
    criterion (iv) needs far fewer patients than (i)."""
    interval = intercept_interval(918, parameters=25, r2=0.2, intercept=1.9, sd=0.6)
    assert (round(interval.low, 2), round(interval.high, 2)) == (1.87, 1.93)
    criteria = development_continuous(parameters=25, r2=0.2, intercept=1.9, sd=0.6)
    assert [c.name for c in criteria] == ["i", "ii", "iii", "iv"]
    n4 = criteria[3].n
    assert n4 < 918
    wide = intercept_interval(n4 - 1, parameters=25, r2=0.2, intercept=1.9, sd=0.6)
    assert (
        wide.high - 1.9
        > 0.19
        >= intercept_interval(n4, parameters=25, r2=0.2, intercept=1.9, sd=0.6).high - 1.9
    )


def test_multiclass_with_two_classes_is_the_binary_criteria():
    binary = development(parameters=24, prevalence=0.174, r2_cs=0.288)
    multi = development_multiclass(parameters=24, total_parameters=24,
                                   prevalences=[0.826, 0.174], r2_pairs={(0, 1): 0.288},
                                   r2_cs=0.288)  # fmt: skip
    assert [c.n for c in multi] == [c.n for c in binary] == [623, 662, 221]
    assert max_cox_snell_multiclass([0.826, 0.174]) == pytest.approx(max_cox_snell(0.174))


def test_multiclass_three_classes_by_hand():
    """Three classes (0.5, 0.3, 0.2), 10 parameters per submodel (20 in all), pairwise
    R2cs 0.2 / 0.25 / 0.15, overall R2cs 0.3: criterion (i) is the pair needing the most
    patients *of its classes*, scaled to all patients; (iii) is the commonest class."""
    phis, pairs = [0.5, 0.3, 0.2], {(0, 1): 0.2, (0, 2): 0.25, (1, 2): 0.15}
    criteria = development_multiclass(parameters=10, total_parameters=20, prevalences=phis,
                                      r2_pairs=pairs, r2_cs=0.3)  # fmt: skip
    by_pair = {
        pair: 10 / ((0.9 - 1) * math.log(1 - r2 / 0.9)) / (phis[pair[0]] + phis[pair[1]])
        for pair, r2 in pairs.items()
    }
    assert criteria[0].exact == pytest.approx(max(by_pair.values()))
    assert max(by_pair, key=by_pair.get) == (1, 2)  # the weakest, rarest pair binds
    assert criteria[2].n == 385  # (1.96 / 0.05)^2 * 0.5 * 0.5 = 384.16
    top = 1 - math.exp(2 * sum(p * math.log(p) for p in phis))
    s_vh = 0.3 / (0.3 + 0.05 * top)
    assert criteria[1].exact == pytest.approx(20 / ((s_vh - 1) * math.log(1 - 0.3 / s_vh)))


def test_inputs_out_of_range_are_refused():
    with pytest.raises(ValueError, match="anticipated R-squared must be in"):
        development_continuous(parameters=5, r2=1.2)
    with pytest.raises(ValueError, match="sum to 1"):
        development_multiclass(parameters=2, total_parameters=4, prevalences=[0.5, 0.4],
                               r2_pairs={(0, 1): 0.1}, r2_cs=0.1)  # fmt: skip
