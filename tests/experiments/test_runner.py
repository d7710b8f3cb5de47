"""The runner: exact zero effects, identical results whatever the workers or executor,
and the statistical honesty of simulated field trials."""

import numpy as np
import pandas as pd
import pytest

from loyaltylab.experiments import run, sensitivity, validate_scenario
from loyaltylab.policies import register, registered
from loyaltylab.sim import Policy


class DoNothing(Policy):
    """Takes part in the pipeline's hooks and changes nothing."""

    name = "do_nothing"

    def make_offers(self, model, offers, week):
        pass

    def settle(self, model, sale, week):
        pass


if "do_nothing" not in registered():
    register("do_nothing")(DoNothing)


def scenario(mode="twin", arms=None, size=2000, replications=3, horizon=13, seed=1,
             burn_in=None, **extra):
    data = {"name": "test", "population": {"size": size}, "horizon_weeks": horizon,
            "replications": replications, "seed": seed, "mode": mode,
            "arms": arms or [{"name": "none", "control": True},
                             {"name": "points", "policies": [{"type": "points"}]}], **extra}
    if burn_in is not None:
        data["burn_in_weeks"] = burn_in
    return validate_scenario(data)


def test_a_do_nothing_policy_has_exactly_zero_effects():
    result = run(scenario(arms=[{"name": "none"},
                                {"name": "nothing", "policies": [{"type": "do_nothing"}]}]))
    effects = result.summary.loc[result.summary["arm"] == "nothing", "effect_vs_control"]
    finite = effects.dropna()
    assert len(finite) > 20
    assert (finite == 0.0).all()
    assert result.metric("incremental_margin")["estimate"] == 0.0


def test_results_are_identical_whatever_the_number_of_workers():
    s = scenario(replications=4)
    one = run(s, workers=1)
    two = run(s, workers=2)
    pd.testing.assert_frame_equal(one.facts, two.facts)  # the facts check runs beside
    pd.testing.assert_frame_equal(one.summary, two.summary)
    pd.testing.assert_frame_equal(one.weekly, two.weekly)
    pd.testing.assert_frame_equal(one.customers, two.customers)


def test_dask_cluster_gives_the_local_results_bit_for_bit():
    distributed = pytest.importorskip("dask.distributed")
    s = scenario(replications=3)
    local = run(s, uncertainty=2)
    analysis = sensitivity(s, samples=2, inputs=["economics"])
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  host="127.0.0.1", dashboard_address=":0") as cluster:
        remote = run(s, executor="dask", scheduler=cluster.scheduler_address, uncertainty=2)
        remote_analysis = sensitivity(s, samples=2, inputs=["economics"],
                                      scheduler=cluster.scheduler_address)
    pd.testing.assert_frame_equal(local.summary, remote.summary)
    pd.testing.assert_frame_equal(local.weekly, remote.weekly)
    pd.testing.assert_frame_equal(local.draws, remote.draws)
    pd.testing.assert_frame_equal(analysis.indices, remote_analysis.indices)


def test_a_replication_does_not_depend_on_how_many_there_are():
    few = run(scenario(replications=2), facts=False)
    more = run(scenario(replications=3), facts=False)
    pd.testing.assert_frame_equal(few.weekly, more.weekly[more.weekly["replication"] < 2])


def test_overrides_and_bad_arguments():
    result = run(scenario(), size=500, replications=2, seed=9, facts=False)
    assert result.manifest["size"] == 500 and result.manifest["seed"] == 9
    assert result.facts is None
    assert len(result.customers) == 2 * 500
    for kwargs, field in (({"workers": 0}, "workers"), ({"size": 0}, "size"),
                          ({"executor": "dask"}, "scheduler")):
        with pytest.raises(ValueError, match=field):
            run(scenario(), **kwargs)


def pilots(arms, replications, size, seed):
    result = run(scenario("field", arms, size=size, replications=replications, seed=seed,
                          burn_in=13), facts=False, workers=2)
    trials = result.trials
    return result, trials[trials["metric"] != "sample_ratio"]


@pytest.mark.slow
def test_aa_field_trials_reject_at_the_nominal_rate():
    """Two identical arms: each metric's test rejects in 5% of 300 simulated pilots."""
    same = {"policies": [{"type": "points"}]}
    result, trials = pilots([{"name": "A", **same}, {"name": "B", **same}], 300, 2000, 11)
    bound = 3 * np.sqrt(0.05 * 0.95 / 300)
    rates = trials.groupby("metric")["significant"].mean()
    assert ((rates - 0.05).abs() < bound).all(), rates
    assert (trials["twin_effect"] == 0).all()
    srm = result.trials[result.trials["metric"] == "sample_ratio"]
    assert (srm["p_value"] > 0.001).all()


@pytest.mark.slow
def test_field_estimates_are_unbiased_and_cover_the_twin_truth():
    """A real effect: field estimates centre on the twin-world truth of each pilot."""
    coupon = {"type": "coupons", "amount_off": 100, "min_spend": 300, "validity_weeks": 8}
    result, trials = pilots([{"name": "none"}, {"name": "coupon", "policies": [coupon]}],
                            300, 4000, 12)
    # power counts the pilots significant in the direction of their truth only; those
    # significant the other way are reported apart
    summary = result.summary.set_index(["arm", "metric"]).loc["coupon"]
    agrees = np.sign(trials["estimate"]) == np.sign(trials["twin_effect"])
    by_metric = trials.assign(right=trials["significant"] & agrees,
                              wrong=trials["significant"] & ~agrees).groupby("metric")
    for metric, share in by_metric["right"].mean().items():
        assert summary.at[metric, "power"] == pytest.approx(share)
        assert summary.at[metric, "wrong_sign"] == pytest.approx(
            by_metric["wrong"].mean()[metric])
    trials = trials.assign(
        error=trials["estimate"] - trials["twin_effect"],
        covered=(trials["ci_low"] <= trials["twin_effect"])
        & (trials["twin_effect"] <= trials["ci_high"]))
    by = trials.groupby("metric")
    z = by["error"].mean() / (by["error"].std() / np.sqrt(by.size()))
    assert (z.abs() < 3.5).all(), z
    coverage = by["covered"].mean()
    se = np.sqrt(0.95 * 0.05 / 300)
    assert (coverage > 0.95 - 3 * se).all(), coverage
    # Neyman's variance is conservative for the pilot's own customers when effects vary
    # between them (program cost: zero in the control, so all of it is heterogeneity);
    # for the outcomes a planner reads the coverage is nominal.
    nominal = coverage[["retention", "net_revenue", "margin", "clv", "nps"]]
    assert (nominal < 0.95 + 3 * se).all(), coverage
