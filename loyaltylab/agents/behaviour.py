"""The default customer model: BG/NBD purchases and dropout, Gamma-Gamma spend, and
response terms for the incentives (:mod:`loyaltylab.agents.terms`).

For customer *i* (segment *s*) the population draws once

- a weekly purchase rate :math:`\\lambda_i \\sim \\text{Gamma}(r_s, \\alpha_s)`,
- a dropout probability after each purchase :math:`p_i \\sim \\text{Beta}(a_s, b_s)`,
- a spend rate :math:`\\nu_i \\sim \\text{Gamma}(q_s, \\gamma_s)`, so each order is worth
  :math:`z \\sim \\text{Gamma}(p_s, \\nu_i)` (mean :math:`p_s/\\nu_i`),

and each week, while alive, the customer places :math:`N_{it} \\sim
\\text{Poisson}(\\lambda_i m_{it})` regular orders, plus the extra occasions some terms
create (a coupon that prompts a trip), dropping out right after each order with
probability :math:`p_i d_{it} \\lambda_i / \\mu_{it}` (:math:`\\mu_{it}` the expected orders
of the week): a customer who would place three orders has three chances to drop out,
and orders after the fatal one are not placed (as in BG/NBD's continuous time).
Dividing by :math:`\\mu_{it} / \\lambda_i` keeps the weekly dropout hazard at
:math:`\\lambda_i p_i d_{it}`: orders that an incentive adds do not, by themselves, hasten
churn (in plain BG/NBD every extra order is an extra chance to leave, so a program that
raised frequency would mechanically shorten lifetimes); only the dropout terms
:math:`d` (status, demotion, rewards, service) move it. Without a program
:math:`m = d = 1` and the model is exactly BG/NBD (Fader, Hardie & Lee 2005) with
Gamma-Gamma spend (Fader, Hardie & Lee 2005b; Colombo & Jiang 1999).

The multipliers come from the behaviour's response terms (see
:mod:`loyaltylab.agents.terms.base` for the formula); how members redeem points and use
coupons at checkout are the behaviour's :class:`~loyaltylab.agents.redemption.Redemption`
and :class:`~loyaltylab.agents.coupon_use.CouponUse`.

Researchers change behaviour by giving other terms (a term of their own is a small
class, no engine change), or by subclassing :class:`CustomerBehaviour` and overriding
any of its vectorised hooks; each receives the model and the rows (or buyers) it
concerns and returns arrays.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from loyaltylab.agents.coupon_use import CouponUse, CouponUseCoefficients
from loyaltylab.agents.redemption import Redemption, RedemptionCoefficients
from loyaltylab.agents.satisfaction import Satisfaction, SatisfactionCoefficients
from loyaltylab.agents.terms import ResponseTerm, Status, default_terms
from loyaltylab.agents.terms.base import RowBound
from loyaltylab.sim import (
    LoyaltyModel,
    Offers,
    Sale,
    as_slice,
    common_rows,
    count_rows,
    isin_rows,
    row_array,
    take_rows,
    union_rows,
)
from loyaltylab.sim.variates import (
    geometric_trials,
    poisson_count_given_positive,
    standard_gamma,
)

#: Grid of the cached purchase thresholds, per unit of log-lift bound.
_GRID = 50
#: Slack of a term's log-lift over its declared bound (float32 rounding).
_SLACK = 1e-4
#: Largest log-lift of a purchase rate applied: e^10, 22,000 times the customer's own
#: rate, is far past any response (the plausible ranges add up to about 4). Extreme
#: coefficients, sensitivities and rebates can add up to more, and a float32 rate
#: overflows from e^89.
MAX_LOG_LIFT = 10.0


class CustomerBehaviour:
    """BG/NBD + Gamma-Gamma customers who respond to incentives.

    Parameters
    ----------
    terms : iterable of ResponseTerm, optional
        The response terms (default: :func:`loyaltylab.agents.terms.default_terms`).
    redemption : RedemptionCoefficients, optional
        When members redeem points (:mod:`loyaltylab.agents.redemption`).
    coupons : CouponUseCoefficients, optional
        Attention to coupons and their use (:mod:`loyaltylab.agents.coupon_use`).
    satisfaction : SatisfactionCoefficients, optional
        The latent satisfaction behind NPS (:mod:`loyaltylab.agents.satisfaction`).

    Notes
    -----
    Hooks, in the order the engine uses them each week:

    1. :meth:`purchase_rate` (uses :meth:`incentive_log_lift`) for every customer who
       can buy this week;
    2. for buyers only: :meth:`dropout_probability`, :meth:`order_values`,
       :meth:`choose_coupons`, :meth:`redemption_wish`;
    3. :meth:`update` after the program has settled the sale.

    The customers' luck comes from ``model.streams`` by purpose, so overriding one hook
    never shifts the random numbers of another (common random numbers hold).

    The engine decides most customers' purchases without their rate: a customer whose
    purchase draw rules out a purchase at the largest rate the terms' bounds allow
    cannot buy at their exact rate (thinning). That needs the traits ``lam`` and
    ``sensitivity`` to stay fixed (rates change through the terms) and every term's
    lift to respect its bound, which is checked on the customers whose rates are
    computed: a term that breaks its bound raises an error naming it. A subclass that
    overrides :meth:`purchase_rate` or :meth:`incentive_log_lift` gets every customer's
    rate computed instead, so any override is safe.
    """

    def __init__(
        self,
        terms: Iterable[ResponseTerm] | None = None,
        redemption: RedemptionCoefficients | None = None,
        coupons: CouponUseCoefficients | None = None,
        satisfaction: SatisfactionCoefficients | None = None,
    ) -> None:
        self.terms = list(terms) if terms is not None else default_terms()
        for i, term in enumerate(self.terms):
            if not isinstance(term, ResponseTerm):
                raise TypeError(f"terms[{i}]: expected a ResponseTerm, got "
                                f"{type(term).__name__}")
        names = [t.name for t in self.terms]
        if len(set(names)) != len(names):
            raise ValueError(f"terms: names must be unique, got {names}")
        self.redemption = Redemption(redemption)
        self.coupons = CouponUse(coupons)
        self.satisfaction = Satisfaction(satisfaction)
        self._thresholds: dict[tuple[Any, ...], Any] = {}
        self._thresholds_n = 0

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(terms={self.terms!r}, "
                f"redemption={self.redemption.coefficients!r}, "
                f"coupons={self.coupons.coefficients!r}, "
                f"satisfaction={self.satisfaction.coefficients!r})")

    def term(self, name: str) -> ResponseTerm | None:
        """The term called ``name``, or None."""
        return next((t for t in self.terms if t.name == name), None)

    def describe(self) -> pd.DataFrame:
        """Every response coefficient: term, name, value, default, range, unit, source."""
        tables = [t.describe() for t in self.terms]
        for name, part in (("redemption", self.redemption), ("coupon_use", self.coupons)):
            table = type(part.coefficients).describe(part.coefficients)
            table.insert(0, "term", name)
            tables.append(table)
        return pd.concat(tables, ignore_index=True)

    def setup(self, model: LoyaltyModel) -> None:
        """Set the terms and satisfaction up; memory columns are added when needed."""
        self._thresholds = {}
        self._thresholds_n = 0
        self.redemption.setup(model, self)
        self.coupons.setup(model, self)
        for term in self.terms:
            term.setup(model, self)
        self.satisfaction.setup(model)

    # ------------------------------------------------------------------ step 2
    def decide(self, model: LoyaltyModel, rows: Any, offers: Offers, week: int) -> Sale:
        """Who buys this week, how many orders, for how much; who drops out."""
        xp = model.xp
        pop = model.population
        streams = model.streams
        lead = streams.dense_bytes("purchase", week, pop.n)
        if not isinstance(rows, slice):
            lead = lead[rows]
        plan = self._thinning_plan(model, offers, week)
        if plan is None:  # rates unknown in advance: compute every customer's
            rate = self.purchase_rate(model, rows, offers, week)
            local = xp.nonzero(lead >= _byte_threshold(rate.astype(xp.float32), xp))[0]
            local = local[pop["alive"][take_rows(rows, local)]]
            rate = rate[local]
        else:
            local = xp.nonzero(lead >= self._byte_thresholds(model, rows, plan))[0]
            if plan.forced is not None:
                local = union_rows(local, _positions(rows, plan.forced, pop.n, xp), xp)
            local = local[pop["alive"][take_rows(rows, local)]]
            rate = self._rate(model, take_rows(rows, local), offers, week, plan)
        # P(at least one order) = 1 - exp(-rate): buy when u > exp(-rate)
        u = streams.dense_values("purchase", week, take_rows(rows, local), lead[local])
        buy = xp.nonzero(u > xp.exp(-rate.astype(xp.float64)))[0]
        rate = rate[buy].astype(xp.float64)
        buyers = take_rows(rows, local[buy])
        purchases = poisson_count_given_positive(
            rate, streams.uniform("purchase", week, buyers), xp
        )
        buyers, purchases, rate = self._add_extra_purchases(
            model, rows, offers, week, buyers, purchases, rate)

        p = self.dropout_probability(model, buyers, offers, week)
        # Orders that incentives add (or remove) do not change the weekly dropout hazard
        # lambda * p * d: the chance per order is divided by the expected orders / lambda.
        lam = pop["lam"][buyers]
        p = xp.clip(p * (lam / xp.maximum(rate, 1e-30)), 0.0, 1.0)
        trials = geometric_trials(p, streams.uniform("dropout", week, buyers), xp)
        dropout = trials <= purchases
        purchases = xp.minimum(purchases, trials)

        first, rest = self.order_values(model, buyers, purchases, week)
        coupon, first = self.choose_coupons(model, buyers, first, offers, week)
        interaction_rows = interaction_counts = None
        if offers.interaction_rows is not None:
            asked = offers.interaction_rows
            if not isinstance(rows, slice):
                asked = xp.intersect1d(row_array(asked, pop.n, xp), rows, assume_unique=True)
            some, interaction_counts = self._interactions_of(model, asked, week)
            interaction_rows = take_rows(asked, some)
        return Sale(
            rows=buyers,
            purchases=purchases,
            first_order=first,
            gross=first + rest,
            coupon=coupon,
            redeem=self.redemption_wish(model, buyers, offers, week),
            dropout=dropout,
            interaction_rows=interaction_rows,
            interaction_counts=interaction_counts,
            xp=xp,
        )

    def _add_extra_purchases(
        self, model: LoyaltyModel, rows: Any, offers: Offers, week: int,
        buyers: Any, purchases: Any, rate: Any,
    ) -> tuple[Any, Any, Any]:
        """Add the terms' extra purchase occasions (drawn apart from the regular orders,
        so customers who would have bought anyway keep their luck) to the week's buyers;
        ``rate`` becomes each buyer's expected regular orders plus the extra ones."""
        xp = model.xp
        pop = model.population
        extra_rows = []
        for term in self.terms:
            got = term.extra_purchases(model, rows, offers, week)
            if got is None or not got[0].shape[0]:
                continue
            some, counts = got
            alive = xp.nonzero(pop["alive"][some])[0]  # who dropped out buys nothing
            extra_rows.append((some[alive], counts[alive].astype(xp.int64)))
        if not extra_rows:
            return buyers, purchases, rate
        some, counts = extra_rows[0]
        for more, more_counts in extra_rows[1:]:
            joined = union_rows(some, more, xp)
            total = xp.zeros(joined.shape, dtype=xp.int64)
            total[xp.searchsorted(joined, some)] += counts
            total[xp.searchsorted(joined, more)] += more_counts
            some, counts = joined, total
        # buyers already: more orders; the others join the buyers
        at_extra, at_buyers = common_rows(some, buyers, xp)
        purchases[at_buyers] += counts[at_extra]
        rate[at_buyers] += counts[at_extra]
        new = xp.ones(some.shape, dtype=bool)
        new[at_extra] = False
        new = xp.nonzero(new)[0]
        if not new.shape[0]:
            return buyers, purchases, rate
        rows_new, counts_new = some[new], counts[new]
        # their regular rate too, for the dropout per order
        rate_new = self.purchase_rate(model, rows_new, offers, week).astype(xp.float64)
        slots = _slots(buyers, rows_new, xp)
        return (_insert(buyers, rows_new, slots, xp), _insert(purchases, counts_new, slots, xp),
                _insert(rate, rate_new + counts_new, slots, xp))

    # ------------------------------------------------------------------ thinning
    def _overridden(self) -> bool:
        cls = type(self)
        return (cls.purchase_rate is not CustomerBehaviour.purchase_rate
                or cls.incentive_log_lift is not CustomerBehaviour.incentive_log_lift)

    def _thinning_plan(self, model: LoyaltyModel, offers: Offers, week: int) -> _Plan | None:
        """Bounds of this week's log-lift (per unit of sensitivity for the sensitive
        terms, absolute for the others) and the rows the terms with a small support
        act on; ``None`` when a rate cannot be bounded (then every rate is computed)."""
        if self._overridden():
            return None
        plan = _Plan()
        xp = model.xp
        for term in self.terms:
            rows = term.support(model, offers, week)
            if rows is not None:
                plan.bounds[term.name] = None
                if rows.shape[0]:
                    plan.forced = (rows if plan.forced is None
                                   else union_rows(plan.forced, rows, xp))
                continue
            bound = term.upper_bound(model, offers, week)
            if bound is None:
                return None
            plan.bounds[term.name] = bound
            if isinstance(bound, RowBound):
                (plan.row_sensitive if term.sensitive else plan.row_other).append(bound)
            elif term.sensitive:
                plan.sensitive += bound
            else:
                plan.other += bound
        return plan

    def _rate(self, model: LoyaltyModel, rows: Any, offers: Offers, week: int,
              plan: _Plan) -> Any:
        """:meth:`purchase_rate` of ``rows``, checking every term against its bound."""
        return _lifted(model, rows, self._log_lift(model, rows, offers, week, plan=plan))

    def _byte_thresholds(self, model: LoyaltyModel, rows: Any, plan: _Plan) -> Any:
        """Smallest leading byte (uint8) with which each of ``rows`` can buy when its
        log-lift is at most the week's bounds (``plan``).

        The thresholds depend only on the bounds and the customers' fixed traits (rate
        and sensitivity), so they are kept for a few bounds, numbers rounded up to a
        grid of 1/50 and per-customer bounds by their key. A week reuses those of
        slightly larger bounds (at most 0.1 larger: at most about 10% more candidates
        for the exact test), so bounds that drift down, as a launch's novelty fades,
        cost no recomputation. When customers join (referral), the kept thresholds of
        this week's per-customer bounds are extended by those of the joiners.
        """
        xp = model.xp
        pop = model.population
        keys = (tuple(b.key for b in plan.row_sensitive), tuple(b.key for b in plan.row_other))
        key = (math.ceil(plan.sensitive * _GRID), math.ceil(plan.other * _GRID), *keys)
        kept = self._thresholds
        if self._thresholds_n != pop.n:
            if isinstance(rows, slice) and rows == slice(None) and self._thresholds_n < pop.n:
                new = slice(self._thresholds_n, None)
                kept = {k: xp.concatenate((t, self._thresholds_at(model, new, k, plan)))
                        for k, t in kept.items() if k[2:] == keys}
            else:  # another group of customers: start afresh
                kept = {}
            self._thresholds, self._thresholds_n = kept, pop.n
        usable = [k for k in kept if k[2:] == keys
                  and key[0] <= k[0] <= key[0] + 5 and key[1] <= k[1] <= key[1] + 5]
        if usable:
            return kept[min(usable, key=lambda k: k[0] + k[1])]
        if len(kept) >= 4:
            del kept[next(iter(kept))]  # the oldest
        kept[key] = self._thresholds_at(model, rows, key, plan)
        return kept[key]

    def _thresholds_at(self, model: LoyaltyModel, rows: Any, key: tuple[Any, ...],
                       plan: _Plan) -> Any:
        """:meth:`_byte_thresholds` of ``rows`` for the bounds of ``key`` (the grid steps
        of the numbers; the per-customer bounds are the plan's)."""
        xp = model.xp
        pop = model.population
        sensitive = xp.full(count_rows(rows, pop.n), key[0] / _GRID, dtype=xp.float32)
        for bound in plan.row_sensitive:
            sensitive += bound.values[rows]
        most = xp.multiply(pop["sensitivity"][rows], sensitive, out=sensitive)
        # the 1e-3 covers float32 rounding of the largest rate
        most += xp.float32(key[1] / _GRID + 1e-3)
        for bound in plan.row_other:
            most += bound.values[rows]
        # capped as the rates are (_lifted), plus the slack: the thresholds stay bounds
        xp.minimum(most, xp.float32(MAX_LOG_LIFT + 1e-3), out=most)
        xp.exp(most, out=most)
        most *= pop["lam"][rows]
        return _byte_threshold(most, xp)

    # ------------------------------------------------------------------ rates
    def purchase_rate(self, model: LoyaltyModel, rows: Any, offers: Offers, week: int) -> Any:
        """Expected regular orders this week, :math:`\\lambda_i m_{it}`, for ``rows``."""
        return _lifted(model, rows, self.incentive_log_lift(model, rows, offers, week))

    def incentive_log_lift(
        self, model: LoyaltyModel, rows: Any, offers: Offers, week: int
    ) -> Any | None:
        """:math:`\\log m_{it}` for ``rows`` (float32), or ``None`` when no term lifts.

        The sensitive terms' log-lifts are summed and scaled by the customer's incentive
        sensitivity; the others are added as they are.
        """
        return self._log_lift(model, rows, offers, week)

    def _log_lift(self, model: LoyaltyModel, rows: Any, offers: Offers, week: int,
                  plan: _Plan | None = None) -> Any | None:
        """:meth:`incentive_log_lift`; with the week's ``plan`` every term's lift is
        checked against the bound the thinning assumed (class notes)."""
        parts = []
        in_support = None
        for term in self.terms:
            lift = term.log_lift(model, rows, offers, week)
            if lift is None:
                continue
            if plan is not None:
                in_support = self._check_bound(model, term, rows, lift, plan, in_support)
            parts.append((term, lift))
        # a copy in float32: the caller works on the sum in place
        return _combine(model, rows, parts, model.xp.float32)

    def _check_bound(self, model: LoyaltyModel, term: ResponseTerm, rows: Any, lift: Any,
                     plan: _Plan, in_support: Any) -> Any:
        """Raise if ``term``'s lift of ``rows`` exceeds what the thinning assumed;
        returns the mask of ``rows`` in the supports (computed once a week)."""
        xp = model.xp
        if not getattr(lift, "shape", ()) or not lift.shape[0]:
            return in_support
        bound = plan.bounds.get(term.name)
        if bound is not None:
            over = lift - (bound.values[rows] if isinstance(bound, RowBound) else bound)
            most = float(over.max())
            if most > _SLACK:
                raise RuntimeError(
                    f"terms: {term.name!r} gave a log-lift {most:.6g} above its "
                    "upper_bound this week; the fast purchase draw needs a true bound "
                    "(fix upper_bound, or return None from it)")
            return in_support
        if in_support is None:
            rows_ = row_array(rows, model.population.n, xp)
            in_support = (isin_rows(rows_, plan.forced, xp) if plan.forced is not None
                          else xp.zeros(rows_.shape, dtype=bool))
        outside = lift[~in_support]
        if outside.shape[0] and float(outside.max()) > _SLACK:
            raise RuntimeError(
                f"terms: {term.name!r} lifted customers outside the rows its support "
                "names; the fast purchase draw skips them")
        return in_support

    def usual_order(self, model: LoyaltyModel, rows: Any) -> Any:
        """Expected value of one order, :math:`p_s / \\nu_i`, currency units (float32)."""
        pop = model.population
        shape = model.segment_params["spend_shape"][pop["segment"][rows]]
        return (shape / pop["spend_rate"][rows]).astype(model.xp.float32)

    def dropout_probability(
        self, model: LoyaltyModel, buyers: Any, offers: Offers, week: int
    ) -> Any:
        """Probability :math:`p_i d_{it}` of dropping out after each order, for buyers.

        The terms' log-factors are summed, the sensitive ones scaled by the customer's
        incentive sensitivity; a service benefit's dropout factor
        (``offers.dropout_multiplier``) applies as given.
        """
        xp = model.xp
        pop = model.population
        p = pop["p_drop"][buyers].astype(xp.float64)
        parts = [(term, d) for term in self.terms
                 if (d := term.log_dropout(model, buyers, offers, week)) is not None]
        log_d = _combine(model, buyers, parts, xp.float64)
        if log_d is not None:
            p = p * xp.exp(log_d)
        if offers.dropout_multiplier is not None:
            p = p * offers.dropout_multiplier[buyers]
        return xp.clip(p, 0.0, 1.0)

    def order_values(
        self, model: LoyaltyModel, buyers: Any, purchases: Any, week: int
    ) -> tuple[Any, Any]:
        """Value of the first order and of the week's other orders (Gamma-Gamma).

        Orders are i.i.d. Gamma(:math:`p_s`, :math:`\\nu_i`); the sum of the other
        :math:`k-1` orders is Gamma(:math:`(k-1)p_s`, :math:`\\nu_i`).
        """
        xp = model.xp
        pop = model.population
        streams = model.streams
        shape = model.segment_params["spend_shape"][pop["segment"][buyers]]
        nu = pop["spend_rate"][buyers]
        first = standard_gamma(shape, streams, "spend", week, buyers, 0) / nu
        rest = xp.zeros(first.shape, dtype=xp.float64)
        more = xp.nonzero(purchases > 1)[0]
        if more.size:
            rest[more] = standard_gamma(
                shape[more] * (purchases[more] - 1), streams, "spend", week, buyers[more], 64
            ) / nu[more]
        return first, rest

    def choose_coupons(
        self, model: LoyaltyModel, buyers: Any, first_order: Any, offers: Offers, week: int
    ) -> tuple[Any, Any]:
        """Which coupon each of the ``buyers`` (ascending rows) uses on the first order,
        and that order's value (:meth:`loyaltylab.agents.coupon_use.CouponUse.choose`).

        Returns
        -------
        coupon : array of int64
            Index in ``offers.coupons``, -1 for none.
        first_order : array of float64
            The first order's value after any top-up.
        """
        return self.coupons.choose(model, buyers, first_order, offers, week)

    def redemption_wish(self, model: LoyaltyModel, buyers: Any, offers: Offers,
                        week: int) -> Any:
        """Whether each buyer redeems points now
        (:meth:`loyaltylab.agents.redemption.Redemption.wish`)."""
        if offers.points is None:
            return model.xp.zeros(buyers.shape, dtype=bool)
        return self.redemption.wish(model, buyers, offers.points, week)

    def interactions(self, model: LoyaltyModel, rows: Any, week: int) -> Any:
        """Interactions (visits, check-ins) of ``rows`` this week: Poisson counts.

        Drawn on demand (a policy that rewards interactions asks for them); dropped-out
        customers do not interact.
        """
        some, counts = self._interaction_draws(model, rows, week)
        dense = model.xp.zeros(count_rows(rows, model.population.n), dtype=model.xp.int64)
        dense[some] = counts
        return dense

    def _interactions_of(self, model: LoyaltyModel, rows: Any, week: int) -> tuple[Any, Any]:
        """Positions in ``rows`` of the customers who interact this week, and how often;
        without the dense counts unless a subclass overrides :meth:`interactions`."""
        if type(self).interactions is CustomerBehaviour.interactions:
            return self._interaction_draws(model, rows, week)
        counts = self.interactions(model, rows, week)
        some = model.xp.nonzero(counts)[0]
        return some, counts[some]

    def _interaction_draws(self, model: LoyaltyModel, rows: Any, week: int) -> tuple[Any, Any]:
        """:meth:`interactions` as the positions in ``rows`` of the nonzero counts (ascending)
        and those counts (int64)."""
        xp = model.xp
        pop = model.population
        rows = as_slice(rows)
        eta_by_segment = model.segment_params["interactions_per_week"]
        if isinstance(rows, slice):  # only the draws of these rows
            start, stop, _ = rows.indices(pop.n)
            lead = model.streams.dense_bytes("interaction", week, stop, start)
        else:
            lead = model.streams.dense_bytes("interaction", week, pop.n)[rows]
        # thinning: only bytes below 256 times the largest P(N >= 1) can mean an
        # interaction (over the segments in ``rows``)
        seg = pop["segment"][rows]
        if not seg.shape[0]:
            return xp.zeros(0, dtype=xp.int64), xp.zeros(0, dtype=xp.int64)
        eta_max = float(xp.max(eta_by_segment[int(seg.min()) : int(seg.max()) + 1]))
        limit = math.ceil(-256.0 * math.expm1(-eta_max))  # in 0 .. 256
        if limit == 0:
            return xp.zeros(0, dtype=xp.int64), xp.zeros(0, dtype=xp.int64)
        # compared as uint8: CuPy would wrap a Python 256 around to 0
        some = xp.nonzero(lead <= xp.uint8(limit - 1))[0]
        idx = take_rows(rows, some)
        eta = eta_by_segment[pop["segment"][idx]]
        p1 = -xp.expm1(-eta)
        u = model.streams.dense_values("interaction", week, idx, lead[some])
        hit = (u < p1) & pop["alive"][idx]
        some, idx, eta, p1, u = some[hit], idx[hit], eta[hit], p1[hit], u[hit]
        return some, poisson_count_given_positive(eta, u / p1, xp)

    # ------------------------------------------------------------------ step 4
    def update(
        self, model: LoyaltyModel, rows: Any, sale: Sale, offers: Offers, week: int
    ) -> None:
        """Apply dropout; let the terms remember the week; update satisfaction."""
        model.population["alive"][sale.rows[sale.dropout]] = False
        for term in self.terms:
            term.update(model, rows, sale, offers, week)
        self.satisfaction.update(model, sale, offers, week,
                                 status_loss=self.status_loss(model, sale.rows, week))

    def status_loss(self, model: LoyaltyModel, rows: Any, week: int) -> Any:
        """The remembered loss of tier status of ``rows`` (0 without a status term)."""
        status = next((t for t in self.terms if isinstance(t, Status)), None)
        if status is None:
            return model.xp.float32(0.0)
        return status.loss(model, rows, week)


@dataclass
class _Plan:
    """The week's thinning: log-lift bounds (per unit of sensitivity for the sensitive
    terms, absolute for the others; numbers and per-customer bounds), each term's bound
    (None: it names its support), and the rows always evaluated exactly (the terms'
    supports)."""

    sensitive: float = 0.0
    other: float = 0.0
    row_sensitive: list[RowBound] = field(default_factory=list)
    row_other: list[RowBound] = field(default_factory=list)
    forced: Any = None
    bounds: dict[str, float | RowBound | None] = field(default_factory=dict)


def _lifted(model: LoyaltyModel, rows: Any, lift: Any) -> Any:
    """:math:`\\lambda_i e^{L_i}` of ``rows`` for log-lifts ``lift`` (None: no lift), the
    log-lifts capped at :data:`MAX_LOG_LIFT`; ``lift`` is overwritten."""
    lam = model.population["lam"][rows]
    if lift is None:
        return lam
    model.xp.minimum(lift, lift.dtype.type(MAX_LOG_LIFT), out=lift)
    rate = model.xp.exp(lift, out=lift)
    rate *= lam
    return rate


def _combine(model: LoyaltyModel, rows: Any, parts: list[tuple[ResponseTerm, Any]],
             dtype: Any) -> Any | None:
    """Sum of the terms' log-factors of ``rows`` (a new array of ``dtype``), the
    sensitive terms' scaled by the customers' incentive sensitivity; None if no part."""
    xp = model.xp
    scaled: Any = None
    plain: Any = None
    for term, value in parts:
        if term.sensitive:
            scaled = xp.array(value, dtype=dtype) if scaled is None else scaled + value
        else:
            plain = xp.array(value, dtype=dtype) if plain is None else plain + value
    if scaled is None:
        return plain
    scaled *= model.population["sensitivity"][rows]
    if plain is not None:
        scaled += plain
    return scaled


def _slots(rows: Any, new: Any, xp: Any) -> Any:
    """Positions of the ``new`` rows in the ascending union of ``rows`` and ``new``
    (disjoint ascending arrays): a linear merge, without sorting."""
    return xp.searchsorted(rows, new) + xp.arange(new.shape[0])


def _insert(values: Any, new_values: Any, slots: Any, xp: Any) -> Any:
    """``values`` with ``new_values`` at ``slots`` (:func:`_slots` of the rows the two
    are aligned with): the values of the union of those rows."""
    out = xp.empty(values.shape[0] + slots.shape[0], dtype=values.dtype)
    taken = xp.zeros(out.shape[0], dtype=bool)
    taken[slots] = True
    out[slots] = new_values
    out[~taken] = values
    return out


def _positions(rows: Any, chosen: Any, n: int, xp: Any) -> Any:
    """Positions in ``rows`` (a slice or an ascending array) of the ``chosen`` rows among
    them (ascending)."""
    if isinstance(rows, slice):
        start, stop, _ = rows.indices(n)
        chosen = chosen[(chosen >= start) & (chosen < stop)]
        return chosen - start
    at = isin_rows(chosen, rows, xp)
    return xp.searchsorted(rows, chosen[at])


def _byte_threshold(rate: Any, xp: Any) -> Any:
    """Smallest leading byte (uint8) of the purchase uniform that allows a purchase at
    ``rate`` (float32; overwritten).

    A purchase needs ``u > exp(-rate)``, and ``u < (lead + 1) / 256``, so only bytes
    ``lead >= floor(256 exp(-rate))`` can buy. The threshold is capped at 255: float32
    rounding of ``exp`` near 1 never rules a customer out, and ``256 exp(-rate)`` is a
    power-of-two scaling, exact in floating point.
    """
    xp.negative(rate, out=rate)
    xp.exp(rate, out=rate)
    rate *= xp.float32(256.0)
    xp.minimum(rate, xp.float32(255.0), out=rate)
    return rate.astype(xp.uint8)  # truncation is the floor of these non-negative values
