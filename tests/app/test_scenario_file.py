"""Scenarios written back as TOML: every shipped scenario and template round-trips, and
what is saved is valid by `loyaltylab validate`."""

import tomllib

import pytest

from loyaltylab.app.scenario_file import DEFAULT, edited, inline, save_scenario, to_toml, value_at
from loyaltylab.app.templates import TEMPLATES, shipped_scenarios, template
from loyaltylab.cli import main
from loyaltylab.experiments import ScenarioError, load_scenario
from loyaltylab.experiments.scenario import read_scenario_data

SHIPPED = shipped_scenarios()


def test_the_shipped_scenarios_are_found():
    assert {p.name for p in SHIPPED} >= {"full_strategy.toml", "winback.toml",
                                          "point_value_sweep.toml"}


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_every_shipped_scenario_round_trips_through_toml(path):
    data = read_scenario_data(path)
    assert tomllib.loads(to_toml(data)) == data


def test_a_saved_scenario_is_valid_by_validate_and_loads_the_same(tmp_path, capsys):
    path = tmp_path / "sub" / "winback.toml"
    data = edited(read_scenario_data("scenarios/winback.toml"),
                  ("arms", 1, "policies", 0, "amount_off"), 80)
    save_scenario(data, path)
    assert main(["validate", str(path)]) == 0
    assert "valid scenario 'winback'" in capsys.readouterr().out
    assert load_scenario(path) == load_scenario(path)  # and reads as the table says
    assert load_scenario(path).arms[1].policies[0].params["amount_off"] == 80


@pytest.mark.parametrize("name", list(TEMPLATES))
def test_every_template_saves_as_a_valid_scenario(tmp_path, name):
    path = tmp_path / f"{name}.toml"
    save_scenario(template(name), path)
    assert main(["validate", str(path)]) == 0


def test_an_invalid_scenario_is_not_saved(tmp_path):
    data = edited(template("coupons only"), ("arms", 1, "policies", 0, "min_spend"), 100)
    with pytest.raises(ScenarioError, match=r"arms\[1\]\.policies\[0\]\.min_spend"):
        save_scenario(data, tmp_path / "bad.toml")
    assert not (tmp_path / "bad.toml").exists()


def test_a_population_file_is_named_relative_to_the_saved_scenario(tmp_path):
    spec = tmp_path / "data" / "population.json"
    spec.parent.mkdir()
    from loyaltylab.agents import default_population

    spec.write_text(default_population(100).model_dump_json())
    data = {**template("points only"), "population": {"file": str(spec)}}
    save_scenario(data, tmp_path / "scenarios" / "s.toml")
    saved = tomllib.loads((tmp_path / "scenarios" / "s.toml").read_text())
    assert saved["population"]["file"] == "../data/population.json"
    assert load_scenario(tmp_path / "scenarios" / "s.toml").population.customers == 100


def test_strings_keys_and_empty_lists_are_written_as_toml_reads_them():
    assert inline('say "hi"\n\x7f') == '"say \\"hi\\"\\n\\u007f"'
    assert inline({"a.b": 1, "c": None}) == '{ "a.b" = 1 }'
    text = to_toml({"name": "x", "targets": [], "parameters": {"response.x.y": 0.5}})
    assert tomllib.loads(text) == {"name": "x", "targets": [],  # none, not the default four
                                   "parameters": {"response.x.y": 0.5}}


def test_editing_copies_and_leaving_out_restores_the_default():
    data = {"arms": [{"name": "a"}, {"name": "b", "policies": [{"type": "points"}]}]}
    changed = edited(data, ("arms", 1, "policies", 0, "value_per_point"), 0.05)
    assert data["arms"][1]["policies"][0] == {"type": "points"}
    assert value_at(changed, ("arms", 1, "policies", 0, "value_per_point")) == 0.05
    back = edited(changed, ("arms", 1, "policies", 0, "value_per_point"), DEFAULT)
    assert back == data
    assert value_at(data, ("economics", "gross_margin")) is DEFAULT
    assert edited(data, ("economics", "gross_margin"), 0.4)["economics"] == {"gross_margin": 0.4}
