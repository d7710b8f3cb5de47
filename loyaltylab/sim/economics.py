"""The firm's economics: the numbers that turn purchases into money."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class Economics(BaseModel):
    """Gross margin, discount rate and fixed program cost.

    Attributes
    ----------
    gross_margin : float
        Share of the list price left after the cost of goods, in [0, 1].
    annual_discount_rate : float
        Yearly rate at which future margin is discounted (CLV), >= 0; weeks are
        discounted by :math:`(1 + r)^{-t/52}`.
    fixed_cost_per_week : float
        Fixed cost of running the program (platform, staff), currency units per week;
        booked in every week of an arm that runs at least one policy.
    currency : str
        Label of the currency units in reports.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    gross_margin: float = Field(0.30, ge=0.0, le=1.0)
    annual_discount_rate: float = Field(0.10, ge=0.0, le=10.0)
    # at most a trillion a week, more than any firm: far larger sums overflow the totals
    fixed_cost_per_week: float = Field(0.0, ge=0.0, le=1e12)
    currency: str = "yuan"
