"""Base class of the built-in policies: parameters as a validated pydantic model."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from loyaltylab.sim import LoyaltyModel, Policy, as_slice, row_array

#: Largest points per currency unit or per order, and largest currency value of a point:
#: far beyond any program, small enough that awards stay exact in 64-bit integers.
MAX_POINTS_RATE = 1e6
#: Largest earn multiplier of a tier or a points campaign (their product stays within
#: the same range).
MAX_MULTIPLIER = 1e3
#: Most points in one count of points (a redemption block, a sign-up bonus, check-in
#: points, a weekly cap, a referral reward): far beyond any program, and within the
#: 32-bit integers the engine keeps some of them in.
MAX_POINTS = 10**9
#: Largest amount of money in a parameter (a coupon's value or minimum spend, a budget,
#: a tier's spend threshold, a cost, a credit): far beyond any program, and within the
#: 32-bit floats the engine keeps amounts in.
MAX_AMOUNT = 1e12
#: Smallest currency value of a point: a worthless point (a smaller one makes the size of
#: a reward in points overflow).
MIN_POINT_VALUE = 1e-12
#: Largest value a points program may return per currency unit spent, tier and campaign
#: multipliers included: ten times the spend, far beyond any program (the response to
#: a rebate grows exponentially and overflows not far beyond).
MAX_REBATE_SHARE = 10.0


class ParamPolicy(BaseModel, Policy):
    """A :class:`loyaltylab.sim.Policy` whose parameters are pydantic fields.

    Parameters are validated at construction, so a bad value is rejected with its name
    and the reason before anything runs (``min_spend: must be greater than amount_off``).
    Runtime state lives in private attributes, which :meth:`clone` does not copy.
    """

    # Every number a policy takes is finite: inf or nan would pass a ge=0 bound and
    # surface as an overflow in the middle of a run.
    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True,
                              allow_inf_nan=False)

    def get_params(self) -> dict[str, Any]:
        """The parameters as plain data (what a scenario file would hold)."""
        return self.model_dump()

    def clone(self) -> ParamPolicy:
        """A fresh policy with the same parameters and no runtime state."""
        return type(self).model_validate(self.get_params())

    def segment_ids(self, model: LoyaltyModel, names: list[str] | None, field: str) -> Any:
        """Segment ids of ``names`` (None: all), with an error naming ``field``."""
        if names is None:
            return None
        unknown = [n for n in names if n not in model.segment_names]
        if unknown:
            raise ValueError(
                f"{field}: unknown segment(s) {unknown}; the population has {model.segment_names}"
            )
        return model.xp.asarray([model.segment_names.index(n) for n in names], dtype="uint8")

    def in_segments(self, model: LoyaltyModel, segment_ids: Any, rows: Any = slice(None)) -> Any:
        """Boolean mask over ``rows``: the customer's segment is in ``segment_ids``."""
        xp = model.xp
        seg = model.population["segment"][rows]
        if segment_ids is None:
            return xp.ones(seg.shape, dtype=bool)
        if len(segment_ids) == 1:
            return seg == segment_ids[0]
        table = xp.zeros(256, dtype=bool)
        table[segment_ids] = True
        return table[seg]

    def segment_rows(self, model: LoyaltyModel, segment_ids: Any) -> Any:
        """Rows of the customers of ``segment_ids`` (None: everyone).

        A slice when they are consecutive (customers are stored by segment, so a slice
        gives views instead of gathers), else an ascending array. Customers never change
        segment, so the rows are cached in the population's meta, shared by every policy
        with the same targets; when customers join, only the joiners are looked at.
        """
        xp = model.xp
        pop = model.population
        if segment_ids is None:
            return slice(0, pop.n)
        key = ("segment_rows", *segment_ids.tolist())
        n, rows = pop.meta.get(key, (0, None))
        if n != pop.n:
            joined = xp.nonzero(self.in_segments(model, segment_ids, slice(n, pop.n)))[0] + n
            if rows is None:
                rows = joined
            elif joined.shape[0]:
                # joiners have the largest rows: appending keeps the rows ascending
                rows = xp.concatenate((row_array(rows, pop.n, xp), joined))
            rows = as_slice(rows)
            pop.meta[key] = (pop.n, rows)
        return rows
