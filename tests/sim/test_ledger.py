import numpy as np
import pytest

from loyaltylab.sim import Economics, Ledger, Population


def make(n=3, **economics):
    pop = Population(np)
    pop.append(n)
    return pop, Ledger(pop, Economics(**economics))


def test_margin_is_gross_margin_minus_program_cost_with_discounting():
    pop, ledger = make(gross_margin=0.4, annual_discount_rate=0.1)
    ledger.begin_week(52)  # one year out: factor 1/1.1
    ledger.book_sale(np.array([0, 2]), np.array([100.0, 50.0]), np.array([10.0, 0.0]))
    ledger.add_cost("coupons", np.array([0]), 10.0)
    ledger.add_cost("service", slice(None), 1.0)
    ledger.add_cost("fixed", None, 5.0)
    totals = ledger.week_totals()
    assert totals["gross_revenue"] == 150.0
    assert totals["net_revenue"] == 140.0
    assert totals["program_cost"] == 10.0 + 3.0 + 5.0
    assert totals["margin"] == pytest.approx(150 * 0.4 - 18.0)
    assert totals["cost_service"] == 3.0
    np.testing.assert_allclose(pop["net_revenue"], [90.0, 0.0, 50.0])
    np.testing.assert_allclose(pop["program_cost"], [11.0, 1.0, 1.0])
    np.testing.assert_allclose(pop["margin_pv"], np.array([40 - 11, -1, 20 - 1]) / 1.1)


def test_cost_components_are_checked():
    _, ledger = make()
    with pytest.raises(ValueError, match="unknown cost component 'gifts'"):
        ledger.add_cost("gifts", np.array([0]), 1.0)
    ledger.register_component("gifts")
    ledger.add_cost("gifts", np.array([0]), 1.0)
    assert ledger.week_totals()["cost_gifts"] == 1.0
    with pytest.raises(ValueError, match=">= 0"):
        ledger.add_cost("coupons", np.array([1]), -2.0)


def test_economics_are_validated():
    with pytest.raises(ValueError, match="gross_margin"):
        Economics(gross_margin=1.5)
    with pytest.raises(ValueError, match="annual_discount_rate"):
        Economics(annual_discount_rate=-0.1)
