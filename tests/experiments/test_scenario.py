"""Scenario files: the shipped ones load; bad ones are rejected with the field path."""

import subprocess
import sys
from pathlib import Path

import pytest

from loyaltylab.experiments import ScenarioError, load_scenario, validate_scenario
from loyaltylab.policies import CouponPolicy, PointsPolicy, TiersPolicy

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"
BASE = {"name": "t", "population": {"size": 1000},
        "arms": [{"name": "control", "control": True}, {"name": "treated", "policies": []}]}


def with_policy(**policy):
    arms = [BASE["arms"][0], {"name": "treated", "policies": [policy]}]
    return {**BASE, "arms": arms}


def errors_of(data):
    with pytest.raises(ScenarioError) as info:
        validate_scenario(data)
    return info.value.errors


@pytest.mark.parametrize("name", ["full_strategy", "points_vs_coupons", "tier_designs",
                                  "winback", "aa_test", "referral"])
def test_shipped_scenarios_load_and_build_their_programs(name):
    scenario = load_scenario(SCENARIOS / f"{name}.toml")
    assert scenario.name == name and len(scenario.arms) >= 2
    assert scenario.control in scenario.arms
    assert (SCENARIOS / f"{name}.toml").read_text().startswith("# Question:")
    for arm in scenario.arms:
        for policy in scenario.policies(arm):
            assert policy.clone().get_params() == policy.get_params()


def test_scenario_contents_are_what_the_files_say():
    tiers = load_scenario(SCENARIOS / "tier_designs.toml")
    b = tiers.policies(tiers.arms[1])
    assert isinstance(b[0], PointsPolicy) and isinstance(b[1], TiersPolicy)
    assert b[1].window == "calendar" and b[1].tiers[3].top_share == 0.10
    aa = load_scenario(SCENARIOS / "aa_test.toml")
    assert aa.mode == "field"
    assert [p.get_params() for p in aa.policies(aa.arms[0])] == [
        p.get_params() for p in aa.policies(aa.arms[1])]
    winback = load_scenario(SCENARIOS / "winback.toml")
    coupon = winback.policies(winback.arms[1])[0]
    assert isinstance(coupon, CouponPolicy) and (coupon.min_spend, coupon.amount_off) == (
        200, 100)


@pytest.mark.parametrize("data,expected", [
    (with_policy(type="coupons", min_spend=300, amount_off=500),
     "arms[1].policies[0].min_spend: must be greater than amount_off (500), got 300"),
    (with_policy(type="pionts"), "arms[1].policies[0].type: unknown policy 'pionts'; "
                                 "did you mean 'points'?"),
    (with_policy(type="points", value_per_point=-1),
     "arms[1].policies[0].value_per_point: Input should be greater than or equal to "
     "0.000000000001"),
    (with_policy(type="points", earn_rate=2), "arms[1].policies[0].earn_rate: Extra inputs"),
    (with_policy(type="coupons", segments=["vip"]),
     "arms[1].policies[0].segments: unknown segment(s) ['vip']"),
    (with_policy(type="coupons", tiers=["Gold"]),
     "arms[1].policies[0].tiers: targeting by tier"),
    ({**BASE, "population": {"size": 0}}, "population.size: Input should be greater"),
    ({**BASE, "population": {"size": 10, "segments": {"vips": 1.0}}},
     "population.segments: unknown segment(s) ['vips']"),
    # (once reported as "shares[0]" or "shares", fields no scenario has)
    ({**BASE, "population": {"size": 10, "segments": {"basic": 2.0, "dormant": -1.0}}},
     "population.segments.basic: a share must be in [0, 1], got 2.0"),
    ({**BASE, "population": {"size": 10, "segments": {"basic": 0.5}}},
     "population.segments: the shares must sum to 1, got 0.5"),
    # (once a line per member of the union type, located by the type's name)
    ({**BASE, "search": {"arm": "treated", "space": {"x": {"low": "a", "high": 1}}}},
     "search.space.x.low: Input should be a valid integer or a valid number"),
    # (once the key as written, its newline splitting the problem over two lines)
    ({**BASE, "population": {"size": 10, "a:\nb": 1}},
     "population['a:\\nb']: Extra inputs are not permitted"),
    ({**BASE, "replications": 10**20}, "replications: Input should be less than or equal"),
    ({**BASE, "arms": BASE["arms"][:1]}, "arms: List should have at least 2 items"),
    ({**BASE, "arms": [{"name": "a", "control": True}, {"name": "b", "control": True}]},
     "arms: one control arm"),
    ({**BASE, "arms": [BASE["arms"][0], {"name": "x", "design": "everything"}]},
     "arms[1].design: unknown design 'everything'"),
    ({**BASE, "horizon": 52}, "horizon: Extra inputs are not permitted"),
    ({**BASE, "economics": {"gross_margin": 2}}, "economics.gross_margin: Input should be"),
    # numbers that validated once and then failed mid-run (overflow, a 240 GB allocation)
    ({**BASE, "population": {"size": 2**63}}, "population.size: Input should be less than"),
    ({**BASE, "population": {"size": 2_000_000_000}}, "population.size: Input should be less"),
    (with_policy(type="points", value_per_point=1e308),
     "arms[1].policies[0].value_per_point: Input should be less than or equal to 1000000"),
    (with_policy(type="points", earn_per_currency=1e300),
     "arms[1].policies[0].earn_per_currency: Input should be less than or equal to"),
    (with_policy(type="points", value_per_point=float("nan")),
     "arms[1].policies[0].value_per_point: Input should be a finite number"),
    ({**BASE, "economics": {"fixed_cost_per_week": float("inf")}},
     "economics.fixed_cost_per_week: Input should be a finite number"),
    ({**BASE, "economics": {"fixed_cost_per_week": 1e308}},
     "economics.fixed_cost_per_week: Input should be less than or equal to 1000000000000"),
])
def test_bad_scenarios_name_the_field_and_the_reason(data, expected):
    assert any(e.startswith(expected) for e in errors_of(data)), errors_of(data)


def test_a_schema_error_does_not_hide_the_policies_errors():
    data = with_policy(type="points", value_per_point=-1)
    data["horizon_weeks"] = "long"
    assert errors_of(data) == [
        "horizon_weeks: Input should be a valid integer, unable to parse string as an integer",
        "arms[1].policies[0].value_per_point: Input should be greater than or equal to "
        "0.000000000001"]


def test_validate_command(tmp_path):
    def run(path):
        return subprocess.run([sys.executable, "-m", "loyaltylab", "validate", str(path)],
                              capture_output=True, text=True, cwd=tmp_path, timeout=120)

    ok = run(SCENARIOS / "winback.toml")
    assert ok.returncode == 0, ok.stderr
    assert "valid scenario 'winback'" in ok.stdout and "(control)" in ok.stdout
    bad = tmp_path / "bad.toml"
    bad.write_text((SCENARIOS / "points_vs_coupons.toml").read_text().replace(
        "amount_off = 500", "amount_off = 5000"))
    result = run(bad)
    assert result.returncode == 2
    assert "arms[2].policies[0].min_spend: must be greater than amount_off (5000)" in (
        result.stderr)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.toml"]  # nothing written
    broken = tmp_path / "broken.toml"
    broken.write_text("name = [")
    assert run(broken).returncode == 2
    assert "not valid TOML" in run(broken).stderr


def test_a_population_file_is_read_relative_to_the_scenario(tmp_path):
    from loyaltylab.agents import default_population

    (tmp_path / "pop.json").write_text(default_population(10, (0.5, 0.5, 0, 0))
                                       .model_dump_json())
    (tmp_path / "s.toml").write_text(
        'name = "f"\n[population]\nsize = 300\nfile = "pop.json"\n'
        '[[arms]]\nname = "a"\n[[arms]]\nname = "b"\n')
    spec = load_scenario(tmp_path / "s.toml").population.spec()
    assert spec.size == 300 and spec.shares == [0.5, 0.5, 0.0, 0.0]
    (tmp_path / "bad.json").write_text('{"size": 5, "segments": [], "shares": []}')
    bad = {**BASE, "population": {"size": 10, "file": str(tmp_path / "bad.json")}}
    assert any(e.startswith("population.file:") for e in errors_of(bad))
    # a calibrated TOML population file, named by the shorthand, gives the size too
    from loyaltylab.agents import save_population

    save_population(default_population(1234, (0.25, 0.25, 0.25, 0.25)), tmp_path / "p.toml")
    (tmp_path / "short.toml").write_text(
        'name = "f"\npopulation = "p.toml"\n[[arms]]\nname = "a"\n[[arms]]\nname = "b"\n')
    short = load_scenario(tmp_path / "short.toml")
    assert short.population.customers == 1234
    assert short.population.spec().shares == [0.25] * 4
    assert errors_of({**BASE, "population": {}}) == [
        "population.size: required unless a population file gives it"]
    missing = {**BASE, "population": {"size": 10, "file": str(tmp_path / "none.json")}}
    assert any("cannot read" in e for e in errors_of(missing))


def test_the_population_files_currency_and_segment_rules_carry_to_the_scenario(tmp_path):
    from loyaltylab.agents import SegmentRules, default_population, save_population

    rules = SegmentRules(currency="USD", core_min_spend=700)
    spec = default_population(100).replace(currency="USD", segment_rules=rules)
    save_population(spec, tmp_path / "p.toml")
    body = 'population = "p.toml"\nmode = "field"\n[[arms]]\nname = "a"\n[[arms]]\nname = "b"\n'
    (tmp_path / "s.toml").write_text('name = "usd"\n' + body)
    scenario = load_scenario(tmp_path / "s.toml")
    assert scenario.economics.currency == "USD"
    assert scenario.population.spec().segment_rules == rules
    (tmp_path / "yuan.toml").write_text(
        'name = "yuan"\n' + body + '[economics]\ncurrency = "yuan"\n')
    with pytest.raises(ScenarioError, match=r"economics.currency: 'yuan', but the population "
                                            r"file's amounts are in 'USD'"):
        load_scenario(tmp_path / "yuan.toml")
    # the scenario's own rules replace the file's, in the same currency
    (tmp_path / "own.toml").write_text(
        'name = "own"\nmode = "field"\n[population]\nfile = "p.toml"\n'
        '[population.segment_rules]\ncurrency = "EUR"\n'
        '[[arms]]\nname = "a"\n[[arms]]\nname = "b"\n')
    with pytest.raises(ScenarioError, match=r"population.segment_rules.currency: the "
                                            r"thresholds are in 'EUR' but the amounts are in "
                                            r"'USD'"):
        load_scenario(tmp_path / "own.toml")
    # the strategy's yuan rules cannot classify dollars at launch (field mode's burn-in)
    usd = {**BASE, "mode": "field", "economics": {"currency": "USD"}}
    assert any("population.segment_rules.currency" in e for e in errors_of(usd))
    validate_scenario({**BASE, "economics": {"currency": "USD"}})   # twin: no burn-in


def test_arm_shares_and_burn_in():
    arms = [{"name": "a", "share": 0.3}, {"name": "b", "share": 0.7}]
    scenario = validate_scenario({**BASE, "arms": arms, "mode": "field"})
    assert scenario.shares == [0.3, 0.7] and scenario.burn_in == 13
    assert validate_scenario(BASE).burn_in == 0
    assert errors_of({**BASE, "arms": [arms[0], {"name": "b"}]}) == [
        "arms: give every arm a share, or none"]
    assert errors_of({**BASE, "arms": [arms[0], {"name": "b", "share": 0.5}]}) == [
        "arms: shares must sum to 1, got 0.8"]


def test_a_file_saved_with_a_byte_order_mark_reads_as_without(tmp_path):
    text = 'name = "bom"\n[population]\nsize = 100\n[[arms]]\nname = "a"\n[[arms]]\nname = "b"\n'
    path = tmp_path / "bom.toml"
    path.write_bytes(b"\xef\xbb\xbf" + text.encode())
    assert load_scenario(path).name == "bom"
