"""An experiment run for the app in its own processes, with progress and cancel.

The app's web server must stay responsive while an experiment runs, and a run must stop
at once, workers included, when the user cancels it. So each run is a child process
(``python -m loyaltylab.app.jobs``) in a process group of its own: it reads the
scenario's table and the run's settings as JSON on standard input, calls
:func:`loyaltylab.experiments.run` exactly as ``loyaltylab run`` does (same scenario and
seed, same numbers, written to a results folder with its report), and prints one line
per finished replication (``progress DONE TOTAL``). Its worker processes (and the
forkserver that starts them) are in its group. Cancelling sends SIGTERM to the child,
which stops its pool the way ``loyaltylab run`` does on Ctrl-C (exit 130, nothing
written), then SIGKILL to whatever is left of the group, and removes the run's
checkpoint: the app does not resume.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: Exit codes of the child, as the command line's (see :mod:`loyaltylab.cli`).
EXIT_OK, EXIT_BAD_INPUT, EXIT_BUG, EXIT_INTERRUPTED = 0, 2, 70, 130

#: Seconds a cancelled run has to stop its pool before its group is killed.
STOP_TIMEOUT_S = 10.0

#: Jobs still running, so that the server can stop them when it stops.
_RUNNING: set[Job] = set()
_LOCK = threading.Lock()


@dataclass(frozen=True)
class Outcome:
    """How a job ended.

    Attributes
    ----------
    code : int
        The child's exit code: 0 done, 2 bad input, 70 a bug, 130 cancelled.
    out : Path
        The results folder (written only when ``code`` is 0).
    errors : list of str
        The lines the child printed on standard error (the problem, or the traceback).
    """

    code: int
    out: Path
    errors: list[str]

    @property
    def done(self) -> bool:
        """The run finished and wrote its results folder."""
        return self.code == EXIT_OK


class Job:
    """An experiment running in a child process group (see the module docstring).

    Parameters
    ----------
    data : dict
        The scenario's table (as a scenario file parses), checked again by the child.
    out : path
        The results folder to write; it must not exist.
    size, replications, workers : int, optional
        As ``loyaltylab run --size --replications --workers`` (workers: None, as many
        as the cores and the memory allow).
    """

    def __init__(self, data: dict[str, Any], out: Path, *, size: int | None = None,
                 replications: int | None = None, workers: int | None = None) -> None:
        self.out = Path(out)
        self.request = {"scenario": data, "out": str(self.out), "size": size,
                        "replications": replications, "workers": workers}
        self.process: subprocess.Popen[str] | None = None
        self.cancelled = False
        # A file, not a pipe: a child writing much to a pipe nobody reads would block.
        # Closed by wait(), once the child has ended.
        self._stderr = tempfile.TemporaryFile(mode="w+", encoding="utf-8")  # noqa: SIM115
        self._reaped = threading.Event()
        self._reaping = threading.Lock()

    def start(self) -> Job:
        """Start the child process in a new process group; return the job."""
        self.process = subprocess.Popen(
            [sys.executable, "-m", "loyaltylab.app.jobs"], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=self._stderr, text=True, encoding="utf-8",
            start_new_session=True)
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(self.request))
        self.process.stdin.close()
        with _LOCK:
            _RUNNING.add(self)
        return self

    @property
    def pid(self) -> int:
        """The child's process id, which is also its process group's id."""
        assert self.process is not None, "start the job first"
        return self.process.pid

    def wait(self, on_progress: Callable[[int, int], None] | None = None) -> Outcome:
        """Wait for the job to end, calling ``on_progress(done, total)`` as replications
        finish; return its :class:`Outcome`."""
        assert self.process is not None and self.process.stdout is not None
        for line in self.process.stdout:
            parts = line.split()
            if len(parts) == 3 and parts[0] == "progress" and on_progress is not None:
                on_progress(int(parts[1]), int(parts[2]))
        code = self.process.wait()
        self._reap()
        self._stderr.seek(0)
        errors = [line.rstrip() for line in self._stderr if line.strip()]
        self._stderr.close()
        if self.cancelled:
            code = EXIT_INTERRUPTED
        return Outcome(code, self.out, errors)

    def cancel(self) -> None:
        """Stop the run and every process it started; its results are not written."""
        if self.process is None or self.cancelled:
            return
        self.cancelled = True
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(STOP_TIMEOUT_S)
        self._reap()

    def _reap(self) -> None:
        """Kill what is left of the job's process group (a worker, the forkserver) and
        remove a cancelled run's checkpoint; once (the group's id could be reused)."""
        with self._reaping:
            if self._reaped.is_set():
                return
            # ProcessLookupError: the group is empty, every process of the job has ended
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.pid, signal.SIGKILL)
            self._reaped.set()
        self.process.wait()  # type: ignore[union-attr]
        if self.cancelled:
            from loyaltylab.experiments.checkpoint import checkpoint_folder

            shutil.rmtree(checkpoint_folder(self.out), ignore_errors=True)
        with _LOCK:
            _RUNNING.discard(self)


def cancel_all() -> None:
    """Cancel every job still running (the server is stopping)."""
    with _LOCK:
        jobs = list(_RUNNING)
    for job in jobs:
        job.cancel()


def _report(done: int, total: int) -> None:
    print(f"progress {done} {total}", flush=True)


def main() -> int:
    """The child: run the experiment the JSON request on standard input describes."""
    from loyaltylab import interrupts

    interrupts.install()
    from loyaltylab.errors import InputError
    from loyaltylab.experiments import run, validate_scenario

    request = json.load(sys.stdin)
    try:
        scenario = validate_scenario(request["scenario"])
        run(scenario, out=request["out"], size=request["size"],
            replications=request["replications"], workers=request["workers"],
            progress=_report)
    except InputError as exc:
        for line in exc.lines():
            print(line, file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except Exception:
        traceback.print_exc()
        return EXIT_BUG
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
