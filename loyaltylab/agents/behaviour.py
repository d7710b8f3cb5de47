"""The default customer model: BG/NBD purchases and dropout, Gamma-Gamma spend, and the
incentive response terms of :mod:`loyaltylab.agents.response`.

For customer *i* (segment *s*) the population draws once

- a weekly purchase rate :math:`\\lambda_i \\sim \\text{Gamma}(r_s, \\alpha_s)`,
- a dropout probability after each purchase :math:`p_i \\sim \\text{Beta}(a_s, b_s)`,
- a spend rate :math:`\\nu_i \\sim \\text{Gamma}(q_s, \\gamma_s)`, so each order is worth
  :math:`z \\sim \\text{Gamma}(p_s, \\nu_i)` (mean :math:`p_s/\\nu_i`),

and each week, while alive, the customer places :math:`N_{it} \\sim
\\text{Poisson}(\\lambda_i m_{it})` orders, dropping out right after each one with
probability :math:`p_i d_{it} / m_{it}`: a customer who would place three orders has three
chances to drop out, and orders after the fatal one are not placed (as in BG/NBD's
continuous time). Dividing by :math:`m` keeps the weekly dropout hazard at
:math:`\\lambda_i p_i d_{it}`: orders that an incentive adds do not, by themselves, hasten
churn (in plain BG/NBD every extra order is an extra chance to leave, so a program that
raised frequency would mechanically shorten lifetimes); only the dropout terms
:math:`d` (status, demotion, rewards, service) move it. Without a program
:math:`m = d = 1` and the model is exactly BG/NBD (Fader, Hardie & Lee 2005) with
Gamma-Gamma spend (Fader, Hardie & Lee 2005b; Colombo & Jiang 1999).

Researchers change behaviour by subclassing :class:`CustomerBehaviour` and overriding
any of its vectorised methods; each receives the model and the rows (or buyers) it
concerns and returns arrays.
"""

from __future__ import annotations

import math
from typing import Any

from loyaltylab.agents.response import ResponseCoefficients
from loyaltylab.agents.satisfaction import Satisfaction, SatisfactionCoefficients
from loyaltylab.sim import (
    LoyaltyModel,
    Offers,
    Sale,
    as_slice,
    count_rows,
    row_array,
    take_rows,
)
from loyaltylab.sim.variates import (
    geometric_trials,
    poisson_count_given_positive,
    standard_gamma,
)


class CustomerBehaviour:
    """BG/NBD + Gamma-Gamma customers who respond to incentives.

    Parameters
    ----------
    response : ResponseCoefficients, optional
        Coefficients of the response terms; defaults from published effects.

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

    Unless :meth:`purchase_rate` or :meth:`incentive_log_lift` is overridden, the engine
    computes rates only for the customers whose purchase draw leaves a purchase
    possible at their largest rate this week, from their traits ``lam`` and
    ``sensitivity``, which it treats as fixed: a behaviour that changes a customer's
    rate over time does so through those hooks, not by writing the trait columns.
    """

    def __init__(
        self,
        response: ResponseCoefficients | None = None,
        satisfaction: SatisfactionCoefficients | None = None,
    ) -> None:
        self.response = response if response is not None else ResponseCoefficients()
        self.satisfaction = Satisfaction(satisfaction)

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(response={self.response!r}, "
                f"satisfaction={self.satisfaction.coefficients!r})")

    def setup(self, model: LoyaltyModel) -> None:
        """Set up satisfaction; other memory columns are added when first needed."""
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
        bound = self._log_lift_bound(model, offers, week)
        if bound is None or bound == 0.0:  # rates unknown in advance, or no incentive
            rate = self.purchase_rate(model, rows, offers, week)
            local = xp.nonzero(lead >= _byte_threshold(rate.astype(xp.float32), xp))[0]
            local = local[pop["alive"][take_rows(rows, local)]]
            rate = rate[local]
        else:
            # Thinning: with log m <= bound * sensitivity, a customer whose byte rules
            # out a purchase at that largest rate has no purchase at the exact rate.
            local = xp.nonzero(lead >= self._byte_thresholds(model, rows, bound))[0]
            local = local[pop["alive"][take_rows(rows, local)]]
            rate = self.purchase_rate(model, take_rows(rows, local), offers, week)
        # P(at least one order) = 1 - exp(-rate): buy when u > exp(-rate)
        u = streams.dense_values("purchase", week, take_rows(rows, local), lead[local])
        buy = xp.nonzero(u > xp.exp(-rate.astype(xp.float64)))[0]
        local, rate = local[buy], rate[buy]
        buyers = take_rows(rows, local)

        purchases = poisson_count_given_positive(
            rate, streams.uniform("purchase", week, buyers), xp
        )
        p = self.dropout_probability(model, buyers, offers, week)
        # Orders that incentives add (or remove) do not change the weekly dropout hazard
        # lambda * p * d: the chance per order is divided by the purchase multiplier m.
        lam = pop["lam"][buyers]
        m = rate / xp.maximum(lam, xp.float32(1e-30))
        p = xp.clip(p / m, 0.0, 1.0)
        trials = geometric_trials(p, streams.uniform("dropout", week, buyers), xp)
        dropout = trials <= purchases
        purchases = xp.minimum(purchases, trials)

        first, rest = self.order_values(model, buyers, purchases, week)
        coupon, first = self.choose_coupons(model, buyers, first, offers)
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
            redeem=self.redemption_wish(model, buyers, week),
            dropout=dropout,
            interaction_rows=interaction_rows,
            interaction_counts=interaction_counts,
            xp=xp,
        )

    def _log_lift_bound(self, model: LoyaltyModel, offers: Offers, week: int) -> float | None:
        """An upper bound of :meth:`incentive_log_lift` per unit of incentive sensitivity,
        over all customers this week.

        ``None`` (compute every customer's rate) when a subclass overrides
        :meth:`purchase_rate` or :meth:`incentive_log_lift`, whose bound is unknown.
        """
        cls = type(self)
        if (cls.purchase_rate is not CustomerBehaviour.purchase_rate
                or cls.incentive_log_lift is not CustomerBehaviour.incentive_log_lift):
            return None
        r = self.response
        bound = 0.0
        if offers.goal_progress is not None:  # progress is a share, at most 1
            bound += math.log1p(r.goal_gradient)
        if offers.rebate_share is not None:
            bound += r.rebate_elasticity * _largest(offers.rebate_share)
        if offers.status is not None:  # the status lost since the peak only lowers it
            bound += r.status_lift * _largest(offers.status)
        if offers.coupons:
            bound += r.coupon_lift * max(_coupon_share_bound(c) for c in offers.coupons)
        if offers.reminded is not None:
            bound += r.reminder_lift
        if offers.enrolled is not None:
            bound += self._novelty_bound(model, week)
        return bound

    def _byte_thresholds(self, model: LoyaltyModel, rows: Any, bound: float) -> Any:
        """Smallest leading byte (uint8) with which each of ``rows`` can buy when its log
        lift is at most ``bound`` times its sensitivity.

        The thresholds depend only on the bound and the customers' fixed traits (rate and
        sensitivity), so they are kept for a few bounds, rounded up to a grid of 1/50. A
        week reuses those of a slightly larger bound (at most 0.1 larger: at most 10% more
        candidates for the exact test), so a bound that drifts down, as a launch's novelty
        fades, costs no recomputation. When customers join (referral), the thresholds of
        everyone are extended by those of the joiners.
        """
        xp = model.xp
        pop = model.population
        step = math.ceil(bound * 50.0)
        key = f"purchase_bytes_{id(self)}"
        n, kept = pop.meta.get(key, (0, {}))
        if n != pop.n:
            if isinstance(rows, slice) and rows == slice(None) and n < pop.n:
                kept = {k: xp.concatenate((t, self._thresholds_at(model, slice(n, None), k)))
                        for k, t in kept.items()}
            else:  # another group of customers: start afresh
                kept = {}
            pop.meta[key] = (pop.n, kept)
        usable = [k for k in kept if step <= k <= step + 5]
        if usable:
            return kept[min(usable)]
        if len(kept) >= 4:
            del kept[next(iter(kept))]  # the oldest
        kept[step] = self._thresholds_at(model, rows, step)
        return kept[step]

    def _thresholds_at(self, model: LoyaltyModel, rows: Any, step: int) -> Any:
        """:meth:`_byte_thresholds` of ``rows`` for the bound ``step / 50``."""
        xp = model.xp
        pop = model.population
        # the 1e-3 covers float32 rounding of the largest rate
        most = xp.multiply(pop["sensitivity"][rows], xp.float32(step / 50.0))
        most += xp.float32(1e-3)
        xp.exp(most, out=most)
        most *= pop["lam"][rows]
        return _byte_threshold(most, xp)

    def _novelty_bound(self, model: LoyaltyModel, week: int) -> float:
        """Largest novelty lift this week: that of the latest enrolment week once every
        customer's is known (:meth:`update` records them), else that of a new member."""
        r = self.response
        pop = model.population
        if pop.meta.get("enrol_week_rows", 0) < pop.n:
            return r.novelty_lift
        return r.novelty_lift * math.exp(-(week - pop.meta["enrol_week_last"]) / r.novelty_weeks)

    def purchase_rate(self, model: LoyaltyModel, rows: Any, offers: Offers, week: int) -> Any:
        """Expected orders this week, :math:`\\lambda_i m_{it}`, for ``rows``."""
        lam = model.population["lam"][rows]
        lift = self.incentive_log_lift(model, rows, offers, week)
        if lift is None:
            return lam
        rate = model.xp.exp(lift, out=lift)
        rate *= lam
        return rate

    def incentive_log_lift(
        self, model: LoyaltyModel, rows: Any, offers: Offers, week: int
    ) -> Any | None:
        """:math:`\\log m_{it}` for ``rows``, or ``None`` when no incentive is on offer.

        Sum of the response terms of :mod:`loyaltylab.agents.response`, scaled by the
        customer's incentive sensitivity.
        """
        xp = model.xp
        pop = model.population
        r = self.response
        total: Any = None

        def add(term: Any) -> None:
            nonlocal total
            if total is None:
                total = xp.array(term, dtype=xp.float32)
            else:
                total += term

        if offers.goal_progress is not None:
            progress = offers.goal_progress[rows]
            add(xp.log1p(xp.multiply(progress, xp.float32(r.goal_gradient))))
        if offers.rebate_share is not None:
            add(xp.multiply(offers.rebate_share[rows], xp.float32(r.rebate_elasticity)))
        if offers.status is not None:
            status = offers.status[rows]
            lost = self._status_lost(model, rows, status)
            add(xp.float32(r.status_lift) * (status - xp.float32(r.demotion_loss_weight) * lost))
        if offers.coupons:
            add(xp.float32(r.coupon_lift) * self.coupon_value_share(model, offers, rows))
        if offers.reminded is not None:
            add(xp.float32(r.reminder_lift) * offers.reminded[rows])
        if "reset_pending" in pop:
            add(xp.float32(math.log1p(-r.post_reward_reset)) * pop["reset_pending"][rows])
        if offers.enrolled is not None:
            add(self._novelty(model, rows, offers, week))
        if total is None:
            return None
        total *= pop["sensitivity"][rows]
        return total

    def _status_lost(self, model: LoyaltyModel, rows: Any, status: Any) -> Any:
        pop = model.population
        if "peak_status" not in pop:
            return 0.0
        return model.xp.maximum(pop["peak_status"][rows] - status, 0.0)

    def _novelty(self, model: LoyaltyModel, rows: Any, offers: Offers, week: int) -> Any:
        """Novelty lift of enrolled customers, by week of enrolment (a table lookup)."""
        xp = model.xp
        r = self.response
        enrolled = offers.enrolled[rows]
        pop = model.population
        if "enrol_week" not in pop:
            return enrolled * xp.float32(r.novelty_lift)
        # lift by enrolment week; index -1 (not yet recorded: enrols this week) is age 0
        age = week - xp.arange(-1, week + 1)
        age[0] = 0
        by_week = (r.novelty_lift * xp.exp(-age / r.novelty_weeks)).astype(xp.float32)
        return by_week[pop["enrol_week"][rows] + 1] * enrolled

    def usual_order(self, model: LoyaltyModel, rows: Any) -> Any:
        """Expected value of one order, :math:`p_s / \\nu_i`, currency units.

        Cached per customer (float32) once coupons first ask for it.
        """
        pop = model.population
        # A behaviour may serve several models: the bookkeeping lives in the population.
        pop.ensure_column("usual_order", model.xp.float32, 0.0)
        known = pop.meta.get("usual_order_rows", 0)
        if known < pop.n:
            new = slice(known, pop.n)
            shape = model.segment_params["spend_shape"][pop["segment"][new]]
            pop["usual_order"][new] = shape / pop["spend_rate"][new]
            pop.meta["usual_order_rows"] = pop.n
        return pop["usual_order"][rows]

    def coupon_value_share(self, model: LoyaltyModel, offers: Offers,
                           rows: Any = slice(None)) -> Any:
        """Best usable coupon's value relative to the usual order, for ``rows`` (an
        ascending array of rows or a slice; all customers by default).

        A coupon with a minimum spend counts only if the usual order reaches it within
        the segment's top-up tolerance; its value is then the discount at the order
        size it needs. Only holders among ``rows`` are looked at.
        """
        xp = model.xp
        pop = model.population
        if isinstance(rows, slice):
            rows = row_array(rows, pop.n, xp)
        share = xp.zeros(rows.shape, dtype=xp.float32)
        for c in offers.coupons:
            at, held = _common(c.rows, rows, xp)
            holders = rows[held]
            usual = self.usual_order(model, holders)
            topup = model.segment_params["topup_share"][pop["segment"][holders]]
            order = xp.maximum(usual, _take(c.min_spend, at, xp))
            usable = order - usual <= topup * usual
            value = (_take(c.amount_off, at, xp) + _take(c.pct_off, at, xp) * order) / order
            value = xp.minimum(xp.where(usable, value, 0.0), 1.0)  # worth at most the order
            share[held] = xp.maximum(share[held], value)
        return share

    def dropout_probability(
        self, model: LoyaltyModel, buyers: Any, offers: Offers, week: int
    ) -> Any:
        """Probability :math:`p_i d_{it}` of dropping out after each order, for buyers.

        The incentive terms (status, demotion, post-reward) are scaled by the customer's
        incentive sensitivity, like the purchase response; a service benefit's dropout
        factor (``offers.dropout_multiplier``) applies as given.
        """
        xp = model.xp
        pop = model.population
        r = self.response
        p = pop["p_drop"][buyers].astype(xp.float64)
        log_d: Any = None
        if offers.status is not None:
            status = offers.status[buyers]
            lost = self._status_lost(model, buyers, status)
            log_d = r.status_dropout * (r.demotion_loss_weight * lost - status)
        if "reset_pending" in pop:
            # log1p of the flag's two values, taken once (the same function as elementwise)
            step = xp.log1p(xp.float64(r.post_reward_dropout))
            reset = xp.where(pop["reset_pending"][buyers], step, 0.0)
            log_d = reset if log_d is None else log_d + reset
        if log_d is not None:
            p = p * xp.exp(pop["sensitivity"][buyers] * log_d)
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
        self, model: LoyaltyModel, buyers: Any, first_order: Any, offers: Offers
    ) -> tuple[Any, Any]:
        """Which coupon each of the ``buyers`` (ascending rows) uses on the first order,
        and that order's value.

        Threshold rule (Zhou et al.: baskets bunch above thresholds): a buyer whose
        order reaches the minimum spend uses the coupon (a subsidy if it would have been
        bought anyway); one who falls short by at most the segment's top-up share tops
        the order up to the threshold; one further below ignores it. Among usable
        coupons the buyer takes the largest discount net of the extra spend.

        Returns
        -------
        coupon : array of int64
            Index in ``offers.coupons``, -1 for none.
        first_order : array of float64
            The first order's value after any top-up.
        """
        xp = model.xp
        coupon = xp.full(first_order.shape, -1, dtype=xp.int64)
        if not offers.coupons:
            return coupon, first_order
        pop = model.population
        topup = model.segment_params["topup_share"][pop["segment"][buyers]]
        best = xp.zeros(first_order.shape, dtype=xp.float64)
        chosen = first_order.copy()
        for k, c in enumerate(offers.coupons):
            at, held = _common(c.rows, buyers, xp)
            order = first_order[held]
            need = xp.maximum(_take(c.min_spend, at, xp) - order, 0.0)
            usable = need <= topup[held] * order
            gain = _take(c.amount_off, at, xp) + _take(c.pct_off, at, xp) * (order + need) - need
            better = usable & (gain > best[held])
            take = held[better]
            best[take] = gain[better]
            coupon[take] = k
            chosen[take] = order[better] + need[better]
        return coupon, chosen

    def redemption_wish(self, model: LoyaltyModel, buyers: Any, week: int) -> Any:
        """Whether each buyer wants to redeem points now (segment propensity)."""
        pop = model.population
        propensity = model.segment_params["redeem_propensity"][pop["segment"][buyers]]
        return model.streams.uniform("redemption", week, buyers) < propensity

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
        """Apply dropout; remember rewards, peak status and enrolment."""
        xp = model.xp
        pop = model.population
        pop["alive"][sale.rows[sale.dropout]] = False
        redeemed = sale.points_redeemed > 0
        if "reset_pending" in pop or bool(redeemed.any()):
            # Post-reward resetting lasts until the next purchase.
            pop.ensure_column("reset_pending", bool, False)
            pop["reset_pending"][sale.rows] = redeemed
        if offers.status is not None:
            pop.ensure_column("peak_status", xp.float32, 0.0)
            peak = pop["peak_status"]
            if isinstance(rows, slice):  # a view: update it in place
                xp.maximum(peak[rows], offers.status[rows], out=peak[rows])
            else:
                peak[rows] = xp.maximum(peak[rows], offers.status[rows])
        if offers.enrolled is not None:
            pop.ensure_column("enrol_week", xp.int16, -1)
            enrol = pop["enrol_week"]
            recorded = pop.meta.get("enrol_week_rows", 0)  # rows whose week is known
            if recorded < pop.n:
                local = xp.nonzero(offers.enrolled[rows] & (enrol[rows] < 0))[0]
                enrol[take_rows(rows, local)] = week
                pop.meta["enrol_week_rows"] = recorded + int(local.shape[0])
                if local.shape[0]:
                    pop.meta["enrol_week_last"] = week
        self.satisfaction.update(model, sale, offers, week)


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


def _largest(values: Any) -> float:
    """The largest of ``values`` and 0 (CuPy's ``max`` has no ``initial``)."""
    return max(float(values.max()), 0.0) if values.shape[0] else 0.0


def _coupon_share_bound(c: Any) -> float:
    """Largest value share (discount / order, at most 1) a coupon offer can have."""
    if any(getattr(v, "ndim", 0) for v in (c.min_spend, c.amount_off, c.pct_off)):
        return 1.0
    if c.min_spend > 0:
        return min(1.0, float(c.amount_off) / float(c.min_spend) + float(c.pct_off))
    return 1.0 if c.amount_off > 0 else float(c.pct_off)


def _common(holders: Any, rows: Any, xp: Any) -> tuple[Any, Any]:
    """Positions in ``holders`` and in ``rows`` (both ascending arrays of unique rows) of
    the rows in both, ascending.

    Only the rows within the holders' range are searched, and the shorter array is
    looked up in the longer one.
    """
    none = xp.zeros(0, dtype=xp.int64)
    if not (holders.shape[0] and rows.shape[0]):
        return none, none
    lo = int(xp.searchsorted(rows, holders[0]))
    hi = int(xp.searchsorted(rows, holders[-1], side="right"))
    sub = rows[lo:hi]
    if not sub.shape[0]:
        return none, none
    if holders.shape[0] <= sub.shape[0]:
        pos = xp.minimum(xp.searchsorted(sub, holders), sub.shape[0] - 1)
        hit = xp.nonzero(sub[pos] == holders)[0]
        return hit, pos[hit] + lo
    pos = xp.minimum(xp.searchsorted(holders, sub), holders.shape[0] - 1)
    hit = xp.nonzero(holders[pos] == sub)[0]
    return pos[hit], hit + lo


def _take(value: Any, at: Any, xp: Any) -> Any:
    """``value[at]`` for a per-holder array, or the scalar itself."""
    if hasattr(value, "shape") and getattr(value, "ndim", 0) > 0:
        return xp.asarray(value)[at]
    return value
