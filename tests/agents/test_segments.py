import warnings

import numpy as np
import pytest
from pydantic import ValidationError

from loyaltylab.agents import BGNBD, GammaGamma, PopulationSpec, Segment, default_segments
from loyaltylab.sim import LoyaltyModel

GOOD = dict(name="s", bgnbd=dict(r=1.0, alpha=2.0, a=1.0, b=2.0),
            gamma_gamma=dict(p=2.0, q=3.0, gamma=10.0))


def _error(callable_, *args, **kwargs):
    with pytest.raises(ValidationError) as info:
        callable_(*args, **kwargs)
    return str(info.value)


@pytest.mark.parametrize("field,value", [("r", -1.0), ("alpha", 0.0), ("a", -0.5), ("b", 0.0)])
def test_negative_rates_name_the_parameter(field, value):
    params = {**GOOD["bgnbd"], field: value}
    assert field in _error(BGNBD, **params)


def test_shares_and_sizes_are_checked():
    seg = Segment(**GOOD)
    assert "shares[0]: must be in [0, 1]" in _error(
        PopulationSpec, size=10, segments=[seg, seg.model_copy(update={"name": "t"})],
        shares=[1.5, -0.5])
    assert "shares: must sum to 1" in _error(PopulationSpec, size=10, segments=[seg],
                                             shares=[0.9])
    assert "size" in _error(PopulationSpec, size=0, segments=[seg], shares=[1.0])
    assert "segments" in _error(PopulationSpec, size=10, segments=[], shares=[])
    assert "names must be unique" in _error(PopulationSpec, size=10, segments=[seg, seg],
                                            shares=[0.5, 0.5])
    assert "redeem_propensity" in _error(Segment, **GOOD, redeem_propensity=1.2)
    assert "q" in _error(GammaGamma, p=1.0, q=0.5, gamma=1.0)
    assert "behaviour" in _error(Segment, **GOOD, behaviour="fast")


def test_mean_order_and_size_change():
    gg = GammaGamma(p=6.25, q=3.74, gamma=15.44)
    assert gg.mean_order == pytest.approx(6.25 * 15.44 / 2.74)
    spec = PopulationSpec(size=10, segments=default_segments(), shares=[0.25] * 4)
    assert spec.with_size(99).size == 99 and spec.with_size(99).shares == spec.shares


def test_parameters_are_bounded_so_that_a_run_cannot_overflow():
    with pytest.raises(ValidationError, match="mean purchase rate must be at most 1,000"):
        BGNBD(r=2000.0, alpha=1.0, a=1.0, b=1.0)
    with pytest.raises(ValidationError, match="less than or equal to 1000000000000"):
        BGNBD(r=1.0, alpha=1.0, a=1.0, b=1e13)
    with pytest.raises(ValidationError, match=r"mean order must be at most 1,000,000,000"):
        GammaGamma(p=1e4, q=2.0, gamma=1e6)
    # at the bounds, a year stays finite, without an overflow warning anywhere
    spec = PopulationSpec(size=300, segments=[Segment(
        name="x", bgnbd=BGNBD(r=1e7, alpha=1e4, a=1e-7, b=1e7),
        gamma_gamma=GammaGamma(p=1e7, q=1e7, gamma=9.99e8))], shares=[1.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = LoyaltyModel(spec, seed=1)
        model.run(52)
    assert np.isfinite(model.weekly.select_dtypes("number").to_numpy()).all()
