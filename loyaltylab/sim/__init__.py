"""The engine: clock, customer state, ledgers, random streams and the policy contract."""

from loyaltylab.sim.backend import get_namespace, to_numpy
from loyaltylab.sim.behaviour import Behaviour
from loyaltylab.sim.economics import Economics
from loyaltylab.sim.ledger import COST_COMPONENTS, Ledger
from loyaltylab.sim.logs import LogRecorder, campaign_log, simulate_logs, transaction_log
from loyaltylab.sim.model import (
    ACTIVE_WINDOW_WEEKS,
    MAX_CUSTOMERS,
    MAX_WEEKS,
    CustomerSource,
    LoyaltyModel,
)
from loyaltylab.sim.offers import CouponOffer, Offers, PointsOffer
from loyaltylab.sim.points_ledger import PointsLedger
from loyaltylab.sim.policy import ORDER, Policy
from loyaltylab.sim.population import (
    Population,
    add_at,
    as_slice,
    common_rows,
    count_rows,
    isin_rows,
    merge_rows,
    row_array,
    rows_where,
    take_rows,
    union_rows,
    unique_rows,
    without_rows,
)
from loyaltylab.sim.sale import Sale
from loyaltylab.sim.streams import Streams

__all__ = [
    "ACTIVE_WINDOW_WEEKS",
    "COST_COMPONENTS",
    "MAX_CUSTOMERS",
    "MAX_WEEKS",
    "ORDER",
    "Behaviour",
    "CouponOffer",
    "CustomerSource",
    "Economics",
    "Ledger",
    "LogRecorder",
    "LoyaltyModel",
    "Offers",
    "PointsLedger",
    "PointsOffer",
    "Policy",
    "Population",
    "Sale",
    "Streams",
    "add_at",
    "as_slice",
    "campaign_log",
    "common_rows",
    "count_rows",
    "get_namespace",
    "isin_rows",
    "merge_rows",
    "row_array",
    "rows_where",
    "simulate_logs",
    "take_rows",
    "to_numpy",
    "transaction_log",
    "union_rows",
    "unique_rows",
    "without_rows",
]
