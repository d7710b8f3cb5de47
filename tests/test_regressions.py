"""One case for each defect the hostile-input battery found: every one is now a single
line naming the input and the reason, exit code 2, and nothing written.

(Signals, permissions, two runs into one folder, the resource guard and a run killed at
random moments have their own tests: ``tests/test_interrupts.py``,
``tests/experiments/test_atomic.py``, ``tests/experiments/test_resources.py`` and
``tests/test_cli.py``.)
"""

import os
import re
import time
from pathlib import Path

import pytest

from loyaltylab import cli

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = (ROOT / "scenarios" / "winback.toml").read_text()
LOG = "customer_id,date,amount\n1,1997-01-01,10\n"


def _files(tmp: Path) -> None:
    (tmp / "folder").mkdir()
    (tmp / "loop1").symlink_to(tmp / "loop2")
    (tmp / "loop2").symlink_to(tmp / "loop1")
    (tmp / "file").write_text("hello\n")
    (tmp / "text.gz").write_text(LOG)
    (tmp / "bad.parquet").write_bytes(b"PAR1 not really")
    (tmp / "twice.csv").write_text("customer_id,date,amount,amount\n1,1997-01-01,10,3\n")
    (tmp / "old.csv").write_text("customer_id,date,amount\n1,0001-01-01,10\n")
    (tmp / "today.csv").write_text("customer_id,date,amount\n1,today,10\n")
    (tmp / "utf16.csv").write_bytes(LOG.encode("utf-16"))
    (tmp / "latin1.csv").write_bytes((LOG + "\xe9,1997-01-02,3\n").encode("latin-1"))
    (tmp / "nested.toml").write_text("x = " + "[" * 5000 + "]" * 5000 + "\n")
    for name, size in (("huge", "9223372036854775808"), ("large", "2000000000")):
        (tmp / f"{name}.toml").write_text(SCENARIO.replace("size = 100000", f"size = {size}"))
    (tmp / "inf_cost.toml").write_text(SCENARIO + "\n[economics]\nfixed_cost_per_week = inf\n")
    arm = SCENARIO + '\n[[arms]]\nname = "p"\n[[arms.policies]]\n'
    for name, text in (("value", 'type = "points"\nvalue_per_point = 1e308'),
                       ("earn", 'type = "points"\nearn_per_currency = 1e300'),
                       ("multiplier", 'type = "tiers"\n[[arms.policies.tiers]]\n'
                        'name = "Gold"\nearn_multiplier = 18446744073709551617')):
        (tmp / f"{name}.toml").write_text(arm + text + "\n")


CASES = [
    # 3. tracebacks instead of one line
    (["run", "{t}/folder"], r"folder: is a folder, expected a file"),
    (["run", "{t}/loop1"], r"loop1: cannot read: Too many levels of symbolic links"),
    (["validate", "{t}/nested.toml"], r"nested\.toml: .*nested too deeply"),
    (["report", "{t}/file"], r"results: .*file: not a folder"),
    (["simulate", "--size", "100", "--weeks", "2", "--out", "{t}/folder"],
     r"--out: .*folder is a folder, expected a file name"),
    (["simulate", "--size", "100", "--weeks", "2", "--out", "{t}/file/x.csv"],
     r"--out: cannot create .*file is not a folder"),
    (["calibrate", "{t}/missing.csv", "--out", "{t}/p.toml"], r"missing\.csv: no such file"),
    (["calibrate", "{t}/folder", "--out", "{t}/p.toml"], r"expected a \.csv or \.parquet"),
    (["calibrate", "{t}/text.gz", "--out", "{t}/p.toml"], r"text\.gz: cannot read: Not a gzip"),
    (["calibrate", "{t}/bad.parquet", "--out", "{t}/p.toml"], r"bad\.parquet: cannot parse"),
    (["calibrate", "data/cdnow_sample.csv", "--out", "{t}/folder"],
     r"--out: .*folder is a folder"),
    (["run", "scenarios/winback.toml", "--out", "{t}/file/x"],
     r"out: cannot create .*file is not a folder"),
    (["run", "scenarios/winback.toml", "--executor", "dask", "--scheduler",
      "tcp://127.0.0.1", "--out", "{t}/d"], r"scheduler: .*missing port number"),
    (["run", "scenarios/winback.toml", "--executor", "dask", "--scheduler",
      "tcp://127.0.0.1:9", "--out", "{t}/d"], r"scheduler: cannot connect to tcp://127"),
    # 4. valid for validate, failing in run
    (["validate", "{t}/huge.toml"], r"population\.size: .*1000000000"),
    (["validate", "{t}/large.toml"], r"population\.size: .*1000000000"),
    (["validate", "{t}/inf_cost.toml"], r"economics\.fixed_cost_per_week: .*finite"),
    (["validate", "{t}/value.toml"], r"arms\[3\]\.policies\[0\]\.value_per_point: .*1000000"),
    (["validate", "{t}/earn.toml"], r"arms\[3\]\.policies\[0\]\.earn_per_currency: .*1000000"),
    (["validate", "{t}/multiplier.toml"],
     r"arms\[3\]\.policies\[0\]\.tiers\[0\]\.earn_multiplier: .*1000"),
    # 5. messages that named nothing
    (["calibrate", "{t}/utf16.csv", "--out", "{t}/p.toml"], r"utf16\.csv: not UTF-8"),
    (["calibrate", "{t}/latin1.csv", "--out", "{t}/p.toml"], r"latin1\.csv: not UTF-8"),
    (["calibrate", "{t}/old.csv", "--out", "{t}/p.toml"], r"row 1: date: cannot parse"),
    (["calibrate", "{t}/today.csv", "--out", "{t}/p.toml"], r"row 1: date: cannot parse"),
    (["calibrate", "{t}/twice.csv", "--out", "{t}/p.toml"], r"\['amount'\] appear more than"),
    (["calibrate", "data/cdnow_sample.csv", "--out", "{t}/p.toml", "--holdout-weeks",
      "5000"], r"--holdout-weeks: must be >= 1 and <= 520"),
    # 7. limits
    (["run", "scenarios/winback.toml", "--replications", "100000"],
     r"--replications: must be >= 1 and <= 99999"),
    (["run", "scenarios/winback.toml", "--workers", "5000"], r"--workers: must be"),
]


@pytest.mark.parametrize(("argv", "message"), CASES, ids=[" ".join(c[0][:2]) + f" #{i}"
                                                           for i, c in enumerate(CASES)])
def test_each_defect_is_one_line_exit_2_and_nothing_written(tmp_path, capsys, argv,
                                                             message):
    _files(tmp_path)
    before = sorted(os.listdir(tmp_path))
    argv = [a.format(t=tmp_path) for a in argv]
    clock = time.monotonic()
    try:
        code = cli.main(argv)
    except SystemExit as exc:  # argparse's own checks
        code = exc.code
    err = capsys.readouterr().err
    assert code == 2, err
    assert time.monotonic() - clock < 15  # no 30 s or 60 s wait for a scheduler
    lines = [line for line in err.splitlines() if "error:" in line]
    assert len(lines) == 1 and "Traceback" not in err, err
    assert re.search(message, lines[0]), lines[0]
    assert sorted(os.listdir(tmp_path)) == before
