import pandas as pd
import pytest

from loyaltylab.errors import InputError
from loyaltylab.experiments.checkpoint import Checkpoint, checkpoint_folder

PLAN = {"command": "run", "scenario": {"seed": 1, "size": 10}}


def test_units_are_kept_and_read_back_exactly(tmp_path):
    out = tmp_path / "results"
    checkpoint = Checkpoint(out, PLAN, resume=False)
    assert checkpoint.folder == checkpoint_folder(out) == tmp_path / ".results.partial"
    frame = pd.DataFrame({"arm": ["a", "b"], "value": [0.1 + 0.2, 1e-300],
                          "segment": pd.Categorical(["x", "y"])})
    checkpoint.save("replication-00001", {"values": frame, "trials": None})
    assert checkpoint.done() == {"replication-00001"}
    again = Checkpoint(out, PLAN, resume=True)
    assert again.resumed
    tables = again.load("replication-00001")
    assert list(tables) == ["values"]
    pd.testing.assert_frame_equal(tables["values"], frame, check_exact=True)
    again.remove()
    assert not checkpoint.folder.exists()


def test_a_leftover_checkpoint_needs_resume_and_the_same_plan(tmp_path):
    out = tmp_path / "results"
    Checkpoint(out, PLAN, resume=False)
    with pytest.raises(InputError, match=r"holds an interrupted run .* add --resume"):
        Checkpoint(out, PLAN, resume=False)
    other = {"command": "run", "scenario": {"seed": 2, "size": 10}}
    with pytest.raises(InputError, match=r"other settings: scenario.seed \(1 then, 2 now\)"):
        Checkpoint(out, other, resume=True)


def test_a_resume_with_nothing_to_resume_starts_afresh(tmp_path):
    checkpoint = Checkpoint(tmp_path / "results", PLAN, resume=True)
    assert not checkpoint.resumed and checkpoint.done() == set()


def test_a_damaged_unit_is_named(tmp_path):
    checkpoint = Checkpoint(tmp_path / "results", PLAN, resume=False)
    unit = checkpoint.folder / "draw-00000"
    unit.mkdir()
    (unit / "values.parquet").write_text("not parquet")
    with pytest.raises(InputError, match="draw-00000: cannot read"):
        checkpoint.load("draw-00000")
