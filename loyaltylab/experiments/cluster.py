"""The Dask executor: units of work on a cluster whose workers may be other machines.

What travels to a worker is a unit (:mod:`loyaltylab.experiments.units`): the scenario
and the unit's indices, a few kilobytes whatever the population size. A population
file's contents travel inside the scenario, so workers need no files; each worker
builds the customers and simulates them itself. What comes back to the client is the
unit's tables (metrics, weekly series, pilots), whose size does not depend on the
population, except replication 0's per-customer table, which the results folder keeps
(``customers.parquet``). Outcomes are keyed by unit, and a unit's luck depends on its
indices alone, so results are bit-identical to a local run's whichever worker runs a
unit, including a unit run again because its first worker died. A worker drops a
unit's tables as soon as the client has them.

Every worker runs the units with the loyaltylab it imports, so all must import the
client's version: the workers connected when the run starts are checked before any unit
is submitted, and a run with none connected within :data:`SCHEDULER_TIMEOUT_S` stops.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, TypeVar

import loyaltylab
from loyaltylab.errors import InputError, MissingDependencyError

if TYPE_CHECKING:
    from distributed import Client

U = TypeVar("U")
R = TypeVar("R")

#: Seconds to wait for a Dask scheduler to answer, and then for a first worker: a live
#: one answers in well under a second, and nobody should wait Dask's default 30 s (or
#: for ever, with no worker) to learn that nothing is there.
SCHEDULER_TIMEOUT_S = 10


def worker_version() -> str:
    """The version of loyaltylab this process imports (run on each worker)."""
    return loyaltylab.__version__


def connect(scheduler: str) -> Client:
    """A client of the Dask scheduler at ``scheduler``, or an :class:`InputError` saying
    why there is none (a malformed address, nothing answering)."""
    try:
        from distributed import Client
        from distributed.comm import parse_address, parse_host_port
    except ImportError:  # pragma: no cover - depends on the installation
        raise MissingDependencyError("executor: dask needs the optional extra: "
                                     "pip install 'loyaltylab[dask]'") from None
    try:
        # A malformed address is caught before a Client exists: a Client that fails on
        # it hangs at exit while closing.
        protocol, location = parse_address(scheduler)
        if protocol in ("tcp", "tls"):
            parse_host_port(location)
        return Client(scheduler, set_as_default=False, timeout=SCHEDULER_TIMEOUT_S)
    except (OSError, ValueError) as exc:  # a malformed address, or no scheduler there
        raise InputError(f"scheduler: cannot connect to {scheduler}: {exc}") from None


def check_workers(client: Client, scheduler: str) -> None:
    """Raise an :class:`InputError` naming the workers that do not import the client's
    loyaltylab (another version, or none), or saying that no worker joined in time."""
    try:
        client.wait_for_workers(1, timeout=SCHEDULER_TIMEOUT_S)
    except TimeoutError:
        raise InputError(f"scheduler: no worker joined {scheduler} within "
                         f"{SCHEDULER_TIMEOUT_S} s; start workers with: dask worker "
                         f"{scheduler}") from None
    mine = loyaltylab.__version__
    # A worker without loyaltylab cannot even unpickle the function: its error comes
    # back in place of a version.
    found = client.run(worker_version, on_error="return")
    wrong = [f"{worker} has loyaltylab {version}" if isinstance(version, str)
             else f"{worker} cannot import loyaltylab ({str(version).splitlines()[0]})"
             for worker, version in sorted(found.items()) if version != mine]
    if wrong:
        raise InputError(f"scheduler: {'; '.join(wrong)}; this client runs loyaltylab "
                         f"{mine}: install that version on every worker")


def stream(function: Callable[[U], R], units: Mapping[str, U], scheduler: str
           ) -> Iterator[R]:
    """Run ``function`` on each unit on the Dask cluster at ``scheduler``; yield the
    results as they finish.

    ``units`` are keyed by name (``replication-00003``): the tasks carry it, so the
    scheduler's dashboard and its errors name the unit. A unit whose workers keep dying
    (out of memory, most often) stops the run with an :class:`InputError` naming it.
    """
    client = connect(scheduler)
    from distributed import KilledWorker
    from distributed import as_completed as dask_completed

    with client:
        check_workers(client, scheduler)
        # Keys are unique to this run: a scheduler shares results between equal keys.
        run = uuid.uuid4().hex
        futures = client.map(function, list(units.values()),
                             key=[f"{name}-{run}" for name in units])
        try:
            for future in dask_completed(futures, loop=client.loop):
                outcome = client.gather(future)
                # The worker would keep the tables until the run ends (replication 0's
                # per-customer table: gigabytes at 10 million customers).
                future.release()
                yield outcome
        except KilledWorker as exc:
            client.cancel(futures)
            unit = str(exc.task).removesuffix(f"-{run}")
            raise InputError(f"scheduler: {unit} killed every worker that ran it "
                             f"({exc.allowed_failures + 1}); a worker with too little "
                             "memory for the population is the usual cause (see the "
                             "workers' logs)") from None
        except BaseException:
            client.cancel(futures)
            raise
