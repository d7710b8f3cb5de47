"""Input errors: one class every layer can raise, a ValueError for existing callers."""

import ast
import importlib.util
import os
from pathlib import Path

import pytest

from loyaltylab.agents import (
    CalibrationError,
    PopulationFileError,
    TransactionError,
    load_population,
    read_transactions,
)
from loyaltylab.errors import MAX_TEXT_BYTES, InputError, MissingDependencyError
from loyaltylab.experiments import ScenarioError, load_scenario, read_results, run
from loyaltylab.experiments.results import check_destination, default_destination
from loyaltylab.sim.backend import get_namespace
from loyaltylab.validation import check_facts

ROOT = Path(__file__).resolve().parents[1]


def test_the_errors_module_depends_on_nothing_in_loyaltylab():
    tree = ast.parse((ROOT / "loyaltylab" / "errors.py").read_text())
    imported = [n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
    imported += [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
    assert not [m for m in imported if m and m.startswith("loyaltylab")]


def test_the_input_errors_are_value_errors():
    for error in (ScenarioError, PopulationFileError, TransactionError, CalibrationError,
                  MissingDependencyError):
        assert issubclass(error, InputError) and issubclass(error, ValueError)
    assert issubclass(MissingDependencyError, ImportError)
    assert ScenarioError(["a: bad", "b: worse"], "s.toml").lines() == [
        "s.toml: a: bad", "s.toml: b: worse"]
    listed = TransactionError([f"row {i}: date: missing" for i in range(1, 24)], "log.csv")
    assert listed.lines()[0] == "log.csv: row 1: date: missing"
    assert listed.lines()[-1] == "log.csv: ... and 3 more bad row(s)" and len(listed.lines()) == 21


def test_files_that_cannot_be_read_are_input_errors(tmp_path):
    with pytest.raises(ScenarioError, match="is a folder, expected a file"):
        load_scenario(tmp_path)
    (tmp_path / "latin1.toml").write_bytes(b"name = '\xe9'\n")
    with pytest.raises(ScenarioError, match="not UTF-8"):
        load_scenario(tmp_path / "latin1.toml")
    with pytest.raises(PopulationFileError, match="not UTF-8"):
        load_population(tmp_path / "latin1.toml")
    with pytest.raises(InputError, match=r"none\.csv: no such file"):
        read_transactions(tmp_path / "none.csv")
    (tmp_path / "binary.csv").write_bytes(b"\xff\xfe\x00\x01garbage")
    with pytest.raises(InputError, match=r"binary\.csv: not UTF-8 text .* save the file as"):
        read_transactions(tmp_path / "binary.csv")
    # a device or a pipe would be read for ever; a symlink loop is one line too
    with pytest.raises(ScenarioError, match="not a regular file"):
        load_scenario("/dev/zero")
    with pytest.raises(PopulationFileError, match="not a regular file"):
        load_population("/dev/zero")
    os.mkfifo(tmp_path / "pipe.toml")
    with pytest.raises(ScenarioError, match="not a regular file"):
        load_scenario(tmp_path / "pipe.toml")
    (tmp_path / "loop1.toml").symlink_to(tmp_path / "loop2.toml")
    (tmp_path / "loop2.toml").symlink_to(tmp_path / "loop1.toml")
    with pytest.raises(ScenarioError, match="cannot read: Too many levels"):
        load_scenario(tmp_path / "loop1.toml")
    huge = tmp_path / "huge.toml"
    with huge.open("wb") as handle:
        handle.truncate(MAX_TEXT_BYTES + 1)
    with pytest.raises(PopulationFileError, match="more than the 67,108,864"):
        load_population(huge)
    with pytest.raises(InputError, match=r"has no manifest\.json"):
        read_results(tmp_path)
    (tmp_path / "manifest.json").write_text("{not json")
    with pytest.raises(InputError, match=r"manifest\.json: cannot read"):
        read_results(tmp_path)


def test_arguments_and_destinations_are_input_errors(tmp_path):
    with pytest.raises(InputError, match="backend: unknown backend"):
        get_namespace("jax")
    with pytest.raises(InputError, match="size: must be >= 1"):
        check_facts(size=0)
    with pytest.raises(InputError, match="only: unknown study 'nope'"):
        check_facts(size=100, only=["nope"])
    (tmp_path / "file").write_text("x")
    with pytest.raises(InputError, match="is not a folder"):
        check_destination(tmp_path / "file" / "results")
    scenario = ROOT / "scenarios" / "winback.toml"
    for kwargs, field in (({"workers": 0}, "workers"), ({"seed": -1}, "seed"),
                          ({"replications": 0}, "replications"),
                          ({"executor": "dask"}, "scheduler")):
        with pytest.raises(InputError, match=field):
            run(scenario, **kwargs)


def test_a_malformed_scheduler_address_is_an_input_error():
    pytest.importorskip("dask.distributed")
    with pytest.raises(InputError, match="scheduler: cannot connect to nonsense"):
        run(ROOT / "scenarios" / "winback.toml", size=100, replications=1, facts=False,
            executor="dask", scheduler="nonsense")


def test_a_run_that_fails_before_any_unit_leaves_no_checkpoint(tmp_path):
    # (once, a scheduler that did not answer left .OUT.partial, and the next run asked
    # for --resume of a run that had computed nothing)
    out = tmp_path / "results"
    with pytest.raises(InputError, match="scheduler: cannot connect to nonsense"):
        run(ROOT / "scenarios" / "winback.toml", size=100, replications=1, facts=False,
            executor="dask", scheduler="nonsense", out=out)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.skipif(importlib.util.find_spec("cupy") is not None, reason="CuPy is installed")
def test_the_gpu_backend_without_cupy_is_a_missing_dependency():
    with pytest.raises(MissingDependencyError, match=r"loyaltylab\[gpu\]"):
        get_namespace("cupy")


def test_deep_nesting_and_long_names_are_handled(tmp_path):
    # (once: RecursionError from tomllib; "File name too long" for the default folder)
    nested = tmp_path / "nested.toml"
    nested.write_text('name = "x"\nx = ' + "[" * 5000 + "]" * 5000 + "\n")
    with pytest.raises(ScenarioError, match="nested too deeply"):
        load_scenario(nested)
    with pytest.raises(PopulationFileError, match="nested too deeply"):
        load_population(nested)
    folder = default_destination("n" * 10_000, tmp_path)
    assert len(folder.name) < 120 and folder.name.startswith("n" * 80 + "-")


@pytest.mark.parametrize(("arguments", "message"), [
    ({"seed": "1"}, r"^seed: must be an integer, got '1'$"),
    ({"size": True}, r"^size: must be an integer, got True$"),
    ({"size": 2.5}, r"^size: must be an integer, got 2\.5$"),
    ({"size": 2_000_000_000}, r"^size: must be in \[1, 1,000,000,000\]"),
    ({"replications": "3"}, r"^replications: must be an integer"),
    ({"replications": 100_000}, r"^replications: must be in \[1, 99,999\]"),
    ({"workers": True}, r"^workers: must be an integer, got True$"),
    ({"uncertainty": 1.0}, r"^uncertainty: must be an integer"),
    ({"out": 5}, r"^out: must be a path, got 5$"),
])
def test_python_arguments_of_the_wrong_type_name_the_parameter(arguments, message):
    with pytest.raises(InputError, match=message):
        run("scenarios/winback.toml", **{"size": 300, "replications": 1, "facts": False,
                                         **arguments})


def test_model_parameters_are_finite_numbers_of_the_right_type():
    from pydantic import ValidationError

    from loyaltylab.agents import btyd_population
    from loyaltylab.sim import LoyaltyModel

    cdnow = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
    for bad, field in (({"r": float("inf")}, "r"), ({"alpha": "4.4"}, "alpha"),
                       ({"size": True}, "size")):
        with pytest.raises(ValidationError, match=rf"(?m)^{field}$"):
            btyd_population(**{"size": 10, **cdnow, **bad})
    with pytest.raises(ValueError, match=r"^seed: must be a non-negative integer or None, "
                                         r"got True$"):
        LoyaltyModel(btyd_population(10, **cdnow), seed=True)
