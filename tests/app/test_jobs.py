"""A run in its own process group: the numbers of `loyaltylab run`, progress, cancel."""

import time

import pandas as pd
import psutil

from loyaltylab.app.jobs import EXIT_BAD_INPUT, EXIT_INTERRUPTED, Job
from loyaltylab.app.scenario_file import edited
from loyaltylab.app.templates import template
from loyaltylab.experiments import read_results, run, validate_scenario

DATA = {"name": "job", "population": {"size": 400}, "horizon_weeks": 8, "replications": 2,
        "seed": 9, "arms": [{"name": "none", "control": True},
                            {"name": "points", "policies": [{"type": "points"}]}]}


def test_a_job_gives_the_numbers_of_run_for_the_same_scenario_and_seed(tmp_path):
    seen = []
    outcome = Job(DATA, tmp_path / "job", workers=1).start().wait(
        lambda done, total: seen.append((done, total)))
    assert outcome.done and outcome.errors == []
    assert seen == [(1, 2), (2, 2)]
    direct = run(validate_scenario(DATA), facts=False)
    pd.testing.assert_frame_equal(read_results(tmp_path / "job").summary, direct.summary)


def test_bad_input_is_the_command_lines_message_and_nothing_is_written(tmp_path):
    data = edited(DATA, ("arms", 1, "policies", 0, "value_per_point"), -1)
    outcome = Job(data, tmp_path / "bad").start().wait()
    assert outcome.code == EXIT_BAD_INPUT
    assert outcome.errors == ["scenario: arms[1].policies[0].value_per_point: Input should "
                              "be greater than or equal to 0.000000000001"]
    assert not (tmp_path / "bad").exists()


def test_cancel_stops_the_job_and_every_process_it_started(tmp_path):
    me = psutil.Process()
    job = Job(template("points only"), tmp_path / "big", size=300_000).start()
    deadline = time.monotonic() + 60
    while len(me.children(recursive=True)) < 3 and time.monotonic() < deadline:
        time.sleep(0.1)  # the job, its forkserver, its workers
    assert len(me.children(recursive=True)) >= 3
    job.cancel()
    assert job.wait().code == EXIT_INTERRUPTED
    assert me.children(recursive=True) == []
    assert list(tmp_path.iterdir()) == []  # no results, no checkpoint
