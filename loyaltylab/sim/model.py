"""``LoyaltyModel``: the weekly simulation of a customer base under a loyalty program."""

from __future__ import annotations

import copy
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Protocol, runtime_checkable

import mesa
import numpy as np
import pandas as pd

from loyaltylab.sim.backend import get_namespace, to_numpy
from loyaltylab.sim.behaviour import Behaviour
from loyaltylab.sim.economics import Economics
from loyaltylab.sim.ledger import Ledger
from loyaltylab.sim.logs import START_DATE, LogRecorder, campaign_log, transaction_log
from loyaltylab.sim.offers import Offers
from loyaltylab.sim.points_ledger import PointsLedger
from loyaltylab.sim.policy import Policy
from loyaltylab.sim.population import Population, add_at
from loyaltylab.sim.sale import Sale
from loyaltylab.sim.streams import Streams

#: Weeks without a purchase after which a customer no longer counts as active.
ACTIVE_WINDOW_WEEKS = 26
#: Longest simulation (weeks are stored as int16).
MAX_WEEKS = 32767
#: Most customers a population may start with: a billion takes about 300 GB with a full
#: program, beyond any machine this runs on; larger sizes are typing errors.
MAX_CUSTOMERS = 1_000_000_000


@runtime_checkable
class CustomerSource(Protocol):
    """What the model needs from a population specification.

    :class:`loyaltylab.agents.PopulationSpec` is the implementation; the engine only
    relies on this protocol, so it knows nothing of segments' meaning.
    """

    size: int

    @property
    def segment_names(self) -> list[str]:
        """Names of the segments, by segment id."""
        ...

    def initial_counts(self) -> list[int]:
        """Customers of each segment in the starting population."""
        ...

    def columns(self) -> dict[str, Any]:
        """Per-customer parameter columns the specification draws, with their dtypes."""
        ...

    def draw(self, rng: np.random.Generator, segment: int, k: int) -> dict[str, np.ndarray]:
        """Parameters of ``k`` new customers of ``segment``."""
        ...

    def segment_parameters(self) -> dict[str, np.ndarray]:
        """Per-segment parameters, one array per name, indexed by segment id."""
        ...

    def behaviours(self) -> list[Behaviour]:
        """The behaviour of each segment (the same object may serve several)."""
        ...


class LoyaltyModel(mesa.Model):
    """A firm's customers under a loyalty program, one step per week.

    Customers are agents stored as a structure of arrays (:class:`Population`); one step
    runs the weekly pipeline of :mod:`loyaltylab.sim.policy` with array operations only.
    At week 0 every customer is alive and has just made a first purchase (the state
    BG/NBD assumes); weeks are numbered from 1.

    Parameters
    ----------
    population : CustomerSource
        Who the customers are, e.g. :func:`loyaltylab.agents.default_population`. Its
        behaviours are copied, so one behaviour object can serve several models.
    policies : iterable of Policy
        The program; each is copied, so one policy object can serve several models.
    economics : Economics, optional
        Gross margin, discount rate, fixed program cost.
    seed : int, SeedSequence or None
        Root of all randomness. The same population, policies and seed give identical
        results; models with the same seed and population draw the same customers and
        the same luck, whatever their policies (common random numbers).
    reporters : dict of str to callable, optional
        Extra weekly series, ``name -> f(model)``, collected by mesa's DataCollector.
    backend : {"numpy", "cupy"}
        Array library of the engine.
    record : bool
        Keep a compact record of every week's buyers and coupons (:attr:`logs`), to
        export as a firm's logs (:meth:`transaction_log`, :meth:`campaign_log`).
        Recording changes nothing in the run.

    Examples
    --------
    >>> from loyaltylab.agents import default_population
    >>> model = LoyaltyModel(default_population(1000), seed=1)
    >>> model.run(4)
    >>> list(model.weekly["week"])
    [1, 2, 3, 4]
    """

    def __init__(
        self,
        population: CustomerSource,
        policies: Iterable[Policy] = (),
        economics: Economics | None = None,
        seed: int | np.random.SeedSequence | None = None,
        *,
        reporters: dict[str, Callable[[LoyaltyModel], Any]] | None = None,
        backend: str = "numpy",
        record: bool = False,
    ) -> None:
        if not isinstance(population, CustomerSource):
            raise TypeError(
                "population: expected a population specification such as "
                f"loyaltylab.agents.default_population(...), got {type(population).__name__}"
            )
        self.xp = get_namespace(backend)
        self.streams = Streams(seed, self.xp)
        super().__init__(rng=self.streams.generator("mesa"))
        if economics is None:
            economics = Economics()
        if not isinstance(economics, Economics):
            raise TypeError(f"economics: expected Economics, got {type(economics).__name__}")
        self.economics = economics
        self.source = population
        self.week = 0
        self.logs = LogRecorder() if record else None
        self.segment_names = list(population.segment_names)
        if len(self.segment_names) > 255:
            raise ValueError("population: at most 255 segments")
        self.segment_params = {
            k: self.xp.asarray(v) for k, v in population.segment_parameters().items()
        }

        xp = self.xp
        self.population = Population(xp)
        for name, dtype, fill in (
            ("alive", bool, True),
            ("segment", xp.uint8, 0),
            ("join_week", xp.int16, 0),
            ("last_purchase", xp.int16, 0),
            ("purchases", xp.int32, 0),
        ):
            self.population.add_column(name, dtype, fill)
        for name, dtype in population.columns().items():
            self.population.add_column(name, dtype, 0)
        self.ledger = Ledger(self.population, economics)
        self.points = PointsLedger(self.population)

        for segment, k in enumerate(population.initial_counts()):
            self._append(segment, k, self.streams.generator("population", 0, segment))
        if self.population.n == 0:
            raise ValueError("population: size must be >= 1")
        self.joined = 0

        # Each model works on its own copy of every behaviour, as of every policy, so a
        # behaviour keeps its per-model state in its own attributes.
        seen: dict[int, Behaviour] = {}
        self._group_segments: dict[int, list[int]] = {}
        for segment, behaviour in enumerate(population.behaviours()):
            if not isinstance(behaviour, Behaviour):
                raise TypeError(
                    f"segment {self.segment_names[segment]!r}: behaviour must have "
                    "setup, decide and update methods"
                )
            own = seen.get(id(behaviour))
            if own is None:
                own = seen[id(behaviour)] = copy.deepcopy(behaviour)
            self._group_segments.setdefault(id(own), []).append(segment)
        self.behaviours = list(seen.values())
        self._groups_cache: tuple[int, list[tuple[Behaviour, Any]]] | None = None

        for behaviour in self.behaviours:
            behaviour.setup(self)
        self._reporters = dict(reporters or {})
        self.policies: list[Policy] = []
        self.program_start = 0
        self.start_program(policies)

    def start_program(
        self,
        policies: Iterable[Policy],
        reporters: dict[str, Callable[[LoyaltyModel], Any]] | None = None,
    ) -> None:
        """Launch the program now: set the policies up and restart the weekly table.

        The constructor calls this with its ``policies``. Call it yourself on a model
        built without policies, after a burn-in of a few weeks with no program, to
        launch the program on a base with a realistic mix of recent and lapsed buyers
        (the pre-period of a field trial). :attr:`program_start` records the week, and
        :attr:`weekly` holds the weeks after it, with any extra ``reporters``.

        Raises
        ------
        ValueError
            If the model already runs a program.
        """
        if self.policies:
            raise ValueError("policies: the model already runs a program")
        policies = list(policies)
        for i, policy in enumerate(policies):
            if not isinstance(policy, Policy):
                raise TypeError(
                    f"policies[{i}]: expected a loyaltylab Policy, got {type(policy).__name__}"
                )
        self.policies = sorted((p.clone() for p in policies), key=lambda p: p.order)
        self._policy_keys: dict[int, str] = {}
        repeats: Counter[str] = Counter()
        for policy in self.policies:
            base = policy.name or type(policy).__name__.lower()
            repeats[base] += 1
            k = repeats[base]
            self._policy_keys[id(policy)] = base if k == 1 else f"{base}_{k}"
        self.program_start = self.week
        self._reporters.update(reporters or {})
        for policy in self.policies:
            policy.setup(self)
        self.datacollector = mesa.DataCollector(
            model_reporters=self._reporters, tables={"weekly": self._metric_names()}
        )

    # ------------------------------------------------------------------ customers
    def _append(self, segment: int, k: int, rng: np.random.Generator) -> slice:
        xp = self.xp
        values = {c: xp.asarray(v) for c, v in self.source.draw(rng, segment, k).items()}
        return self.population.append(
            k,
            segment=segment,
            join_week=self.week,
            last_purchase=self.week,
            **values,
        )

    def add_customers(self, segment: int | str, k: int) -> slice:
        """Add ``k`` customers of ``segment`` who join now, just after a first purchase.

        Their parameters are drawn from the segment's distributions with a stream keyed
        by the week and the number of earlier joins, so existing customers keep their
        luck. Policies are told through ``on_join``. Returns the slice of new rows.
        """
        if isinstance(segment, str):
            if segment not in self.segment_names:
                raise ValueError(
                    f"segment: unknown segment {segment!r}; known: {self.segment_names}"
                )
            segment = self.segment_names.index(segment)
        if not 0 <= segment < len(self.segment_names):
            raise ValueError(f"segment: no segment with id {segment}")
        if k <= 0:
            return slice(self.population.n, self.population.n)
        rows = self._append(
            segment, k, self.streams.generator("population", self.week, segment, self.joined + 1)
        )
        self.joined += k
        for policy in self.policies:
            policy.on_join(self, rows)
        return rows

    def _groups(self) -> list[tuple[Behaviour, Any]]:
        n = self.population.n
        if self._groups_cache is None or self._groups_cache[0] != n:
            if len(self.behaviours) == 1:
                groups = [(self.behaviours[0], slice(None))]
            else:
                seg = self.population["segment"]
                groups = [
                    (b, self.xp.nonzero(self.xp.isin(seg, self.xp.asarray(
                        self._group_segments[id(b)], dtype=self.xp.uint8)))[0])
                    for b in self.behaviours
                ]
            self._groups_cache = (n, groups)
        return self._groups_cache[1]

    def policy_key(self, policy: Policy) -> str:
        """Unique name of a policy in this model: its registry name, numbered if repeated."""
        return self._policy_keys[id(policy)]

    def find_policies(self, kind: type) -> list[Policy]:
        """The model's policies that are instances of ``kind`` (e.g. the tier program)."""
        return [p for p in self.policies if isinstance(p, kind)]

    def customer(self, row: int) -> dict[str, Any]:
        """Everything the model knows of one customer (for inspection, not for speed)."""
        if not 0 <= row < self.population.n:
            raise IndexError(f"row: no customer {row}")
        out = {c: to_numpy(self.population[c][row : row + 1])[0].item()
               for c in self.population.columns}
        out["segment"] = self.segment_names[out["segment"]]
        return out

    # ------------------------------------------------------------------ running
    def step(self) -> None:
        """Advance one week through the pipeline offers -> decide -> settle -> update."""
        if self.week >= MAX_WEEKS:
            raise RuntimeError(f"the model can run at most {MAX_WEEKS} weeks")
        week = self.week + 1
        self.week = week
        pop = self.population
        self.ledger.begin_week(week)
        self.points.begin_week(week)

        offers = Offers(pop.n, self.xp)
        for policy in self.policies:
            policy.make_offers(self, offers, week)

        groups = self._groups()
        parts = [behaviour.decide(self, rows, offers, week) for behaviour, rows in groups]
        sale = Sale.concat(parts)
        sale.ledger = self.ledger
        for policy in self.policies:
            policy.settle(self, sale, week)

        self.ledger.book_sale(sale.rows, sale.gross, sale.discount)
        pop["last_purchase"][sale.rows] = week
        add_at(pop["purchases"], sale.rows, sale.purchases.astype(self.xp.int32), self.xp)
        start = 0
        for (behaviour, rows), part in zip(groups, parts, strict=True):
            stop = start + len(part)
            own = sale if len(groups) == 1 else sale.select(slice(start, stop))
            behaviour.update(self, rows, own, offers, week)
            start = stop

        for policy in self.policies:
            policy.end_of_week(self, week)
        if self.policies and self.economics.fixed_cost_per_week > 0:
            self.ledger.add_cost("fixed", None, self.economics.fixed_cost_per_week)
        if self.logs is not None:
            self.logs.record(self, offers, sale, week)
        self._collect(sale)

    def run(self, weeks: int) -> None:
        """Run ``weeks`` more weeks."""
        if not isinstance(weeks, int | np.integer) or weeks < 0:
            raise ValueError(f"weeks: must be a non-negative integer, got {weeks!r}")
        if self.week + weeks > MAX_WEEKS:
            raise ValueError(f"weeks: the model can run at most {MAX_WEEKS} weeks in all")
        for _ in range(int(weeks)):
            self.step()

    # ------------------------------------------------------------------ metrics
    def _metric_names(self) -> list[str]:
        names = [
            "week", "customers", "alive", "active", "buyers", "purchases",
            *self.ledger.week_totals(), *self.points.week_totals(),
        ]
        for policy in self.policies:
            names.extend(policy.metrics(self))
        if len(set(names)) != len(names):
            raise ValueError(f"policies: weekly metric names collide: {names}")
        return names

    def _collect(self, sale: Sale) -> None:
        xp = self.xp
        pop = self.population
        row: dict[str, Any] = {
            "week": self.week,
            "customers": pop.n,
            "alive": int(xp.count_nonzero(pop["alive"])),
            "active": int(xp.count_nonzero(
                pop["last_purchase"] > self.week - ACTIVE_WINDOW_WEEKS)),
            "buyers": len(sale),
            "purchases": int(sale.purchases.sum()),
        }
        row.update(self.ledger.week_totals())
        row.update(self.points.week_totals())
        for policy in self.policies:
            row.update(policy.metrics(self))
        self.datacollector.add_table_row("weekly", row)
        self.datacollector.collect(self)

    @property
    def weekly(self) -> pd.DataFrame:
        """One row per simulated week: customers, purchases, money and points.

        Columns: week, customers, alive (not dropped out, latent), active (purchased in
        the last 26 weeks), buyers, purchases, gross_revenue, discounts, net_revenue,
        program_cost, margin, cost_<component>, points_earned, points_redeemed,
        points_expired, points_outstanding, and any extra ``reporters``.
        """
        table = self.datacollector.get_table_dataframe("weekly")
        if self.datacollector.model_reporters:
            extra = self.datacollector.get_model_vars_dataframe().reset_index(drop=True)
            table = pd.concat([table, extra], axis=1)
        return table

    def transaction_log(self, start_date: Any = START_DATE) -> pd.DataFrame:
        """The run's orders as a firm's transaction log (needs ``record=True``); see
        :func:`loyaltylab.sim.logs.transaction_log`."""
        return transaction_log(self, start_date)

    def campaign_log(self, start_date: Any = START_DATE) -> pd.DataFrame:
        """The coupons issued, one row each with its redemption date (needs
        ``record=True``); see :func:`loyaltylab.sim.logs.campaign_log`."""
        return campaign_log(self, start_date)

    def customers_frame(self, columns: Sequence[str] | None = None) -> pd.DataFrame:
        """Per-customer state as a DataFrame (host memory), one row per customer."""
        names = list(columns) if columns is not None else self.population.columns
        frame = pd.DataFrame({c: to_numpy(self.population[c]) for c in names})
        if "segment" in frame:
            frame["segment"] = pd.Categorical.from_codes(
                frame["segment"].astype(int), categories=self.segment_names
            )
        return frame
