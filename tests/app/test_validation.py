"""The command line's checks, each problem placed beside its field."""

from loyaltylab.app.scenario_file import edited, save_scenario, to_toml
from loyaltylab.app.templates import template
from loyaltylab.app.validation import check, field_path, path_of, whole_number
from loyaltylab.cli import main

COUPON = ("arms", 1, "policies", 0)


def test_a_bad_value_is_the_command_lines_line_at_its_field(tmp_path, capsys):
    data = edited(template("coupons only"), (*COUPON, "min_spend"), 100)
    checked = check(data)
    assert not checked.ok and checked.scenario is None
    line = "arms[1].policies[0].min_spend: must be greater than amount_off (500), got 100"
    assert checked.at(path_of((*COUPON, "min_spend"))) == line
    path = tmp_path / "bad.toml"
    path.write_text(to_toml(data))
    assert main(["validate", str(path)]) == 2
    assert capsys.readouterr().err.strip() == f"loyaltylab: error: {path}: {line}"


def test_problems_of_fields_without_an_input_are_shown_elsewhere():
    data = {**template("points only"), "parameters": {"response.nothing": 1.0}}
    checked = check(data)
    [line] = checked.elsewhere({"name", "arms[1].name"})
    assert line.startswith("parameters.response.nothing: ")
    assert checked.elsewhere({"parameters.response.nothing"}) == []


def test_an_unknown_policy_type_is_placed_at_its_type():
    data = edited(template("points only"), (*COUPON, "type"), "pionts")
    assert "did you mean 'points'" in check(data).at("arms[1].policies[0].type")


def test_the_runs_size_is_checked_as_the_command_line_checks_it():
    data = template("points only")
    assert check(data, size=whole_number("abc")).errors == {
        "size": ["size: must be an integer, got 'abc'"]}
    assert check(data, size=0).at("size") == "size: must be in [1, 1,000,000,000], got 0"
    assert check(data, replications=0).at("replications").startswith("replications: must be")
    good = check(data, size=whole_number("2,000"), replications=2)
    assert good.ok
    assert good.scenario.population.customers == 2000 and good.scenario.replications == 2


def test_field_paths():
    assert path_of(("arms", 1, "policies", 0, "min_spend")) == "arms[1].policies[0].min_spend"
    assert field_path("population.size: Input should be ...") == "population.size"
    assert field_path("no field here") == ""


def test_a_valid_scenario_saves(tmp_path):
    assert check(template("full program")).ok
    save_scenario(template("full program"), tmp_path / "s.toml")
