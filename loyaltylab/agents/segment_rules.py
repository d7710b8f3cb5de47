"""The firm's segment rules as data: thresholds, their currency and the annualisation.

The strategy defines its four segments on a year of behaviour, in yuan:

1. core loyal: annual spend >= 5000 and >= 4 purchases a year;
2. potential loyal: spend >= 2000 and >= 2 purchases;
3. dormant: spend < 500 and no purchase in the last 26 weeks;
4. basic: everyone else.

The table leaves gaps and overlaps, so it is applied as a precedence rule in that order.
A firm that reports in another currency, or draws other lines, writes its own
:class:`SegmentRules` (``[segment_rules]`` of a population file or a scenario); the
rules say which currency their thresholds are in, so thresholds in yuan are never
applied to amounts in dollars without a word.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from loyaltylab.errors import InputError

#: Segment names in the order of :meth:`SegmentRules.classify` codes.
SEGMENT_NAMES = ("core_loyal", "potential_loyal", "basic", "dormant")
#: Weeks in a year: the thresholds are yearly figures.
WEEKS_PER_YEAR = 52


class SegmentRules(BaseModel):
    """Thresholds of the four segments (module docstring), in one currency.

    Attributes
    ----------
    currency : str
        Currency of the spend thresholds (``"yuan"`` for the strategy's rules).
    annualise : bool
        The rules look at the trailing year; when less history exists (a log of 26
        weeks), spend and purchases are scaled by ``52 / weeks of history`` before they
        meet the yearly thresholds. ``False`` compares them as they are.
    core_min_spend, potential_min_spend : float
        Least spend per year of core-loyal and potential-loyal customers, currency units.
    core_min_purchases, potential_min_purchases : float
        Least purchases per year of core-loyal and potential-loyal customers.
    dormant_max_spend : float
        Dormant customers spend less than this per year, currency units.
    dormant_min_weeks_since : float
        Dormant customers have not bought for at least this many weeks.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    currency: str = Field("yuan", min_length=1)
    annualise: bool = True
    core_min_spend: float = Field(5000.0, ge=0, allow_inf_nan=False)
    core_min_purchases: float = Field(4.0, ge=0, allow_inf_nan=False)
    potential_min_spend: float = Field(2000.0, ge=0, allow_inf_nan=False)
    potential_min_purchases: float = Field(2.0, ge=0, allow_inf_nan=False)
    dormant_max_spend: float = Field(500.0, ge=0, allow_inf_nan=False)
    dormant_min_weeks_since: float = Field(26.0, ge=0, allow_inf_nan=False)

    def annual(self, values: Any, history_weeks: float) -> np.ndarray:
        """Spend or purchases of the trailing year, or of ``history_weeks`` weeks when
        there is less history, as yearly figures (scaled when :attr:`annualise`).

        >>> SegmentRules().annual([100.0], 26).tolist()
        [200.0]
        """
        values = np.asarray(values, dtype=float)
        if not self.annualise:
            return values
        return values * (WEEKS_PER_YEAR / max(min(float(history_weeks), WEEKS_PER_YEAR), 1.0))

    def classify(self, annual_spend: Any, purchases_per_year: Any,
                 weeks_since_purchase: Any) -> np.ndarray:
        """Segment codes (index into :data:`SEGMENT_NAMES`) from yearly figures.

        Examples
        --------
        >>> SegmentRules().classify([6000.0, 2500.0, 100.0, 100.0], [5, 2, 0, 1],
        ...                         [1, 3, 30, 2]).tolist()
        [0, 1, 3, 2]
        """
        spend = np.asarray(annual_spend, dtype=float)
        purchases = np.asarray(purchases_per_year, dtype=float)
        recency = np.asarray(weeks_since_purchase, dtype=float)
        return np.select(
            [(spend >= self.core_min_spend) & (purchases >= self.core_min_purchases),
             (spend >= self.potential_min_spend) & (purchases >= self.potential_min_purchases),
             (spend < self.dormant_max_spend) & (recency >= self.dormant_min_weeks_since)],
            [0, 1, 3],
            default=2,
        )

    def check_window(self, weeks: float, where: str = "segment_rules") -> None:
        """Refuse rules that define a segment nobody can fall in with ``weeks`` weeks of
        history (e.g. dormant after 26 weeks without a purchase, in a 26-week log).

        Raises
        ------
        InputError
            Naming the rule and the window.
        """
        if self.dormant_min_weeks_since >= weeks:
            raise InputError(
                f"{where}.dormant_min_weeks_since: {self.dormant_min_weeks_since:g} weeks "
                f"without a purchase cannot be seen in {weeks:g} weeks of history, so no "
                "customer could be dormant; lower it or use a longer calibration period")

    def check_currency(self, currency: str, where: str = "segment_rules") -> None:
        """Refuse rules whose thresholds are in another currency than the amounts.

        Raises
        ------
        InputError
            Naming both currencies.
        """
        if self.currency != currency:
            raise InputError(
                f"{where}.currency: the thresholds are in {self.currency!r} but the amounts "
                f"are in {currency!r}; give segment rules with thresholds in {currency!r}")


#: The strategy's rules (yuan, a year of history).
STRATEGY_RULES = SegmentRules()
