"""The workbench in a real browser: `loyaltylab app` started as a user starts it, driven
by Playwright in Debian's headless Chromium."""

import json
import math
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import psutil
import pytest
from helpers import ARGS, CHROMIUM, need_chromium

from loyaltylab.app.pages import css_class
from loyaltylab.app.scenario_file import edited
from loyaltylab.app.validation import path_of
from loyaltylab.experiments import ScenarioError, validate_scenario
from loyaltylab.experiments.metrics import format_value
from loyaltylab.experiments.scenario import read_scenario_data

sync_api = pytest.importorskip("playwright.sync_api")

ROOT = Path(__file__).resolve().parents[2]
WINBACK = "scenarios/winback.toml"
#: The first treatment arm's coupon of the win-back scenario.
COUPON = ("arms", 1, "policies", 0)
#: Where the README's picture of the workbench is taken (results/ is ignored by git).
SCREENSHOT = ROOT / "results" / "workbench.png"
#: A small run takes about 15 s on a quiet 2-core machine, three times that on a busy
#: one: the wait is for the busy one.
RUN_TIMEOUT_MS = 180_000


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    """The workbench as `loyaltylab app --port N --results DIR` starts it (its output in
    a file: a pipe nobody reads would stop the server once full)."""
    need_chromium()
    pytest.importorskip("solara")
    results = tmp_path_factory.mktemp("results")
    log = results.parent / "app.log"
    port = free_port()
    with log.open("w") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "loyaltylab", "app", "--port", str(port), "--results",
             str(results)], cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 60
    while "workbench is at" not in log.read_text() and time.monotonic() < deadline:
        assert server.poll() is None, log.read_text()
        time.sleep(0.1)
    first = log.read_text().splitlines()[0]
    assert f"http://127.0.0.1:{port}/" in first and "only this computer" in first, first
    yield f"http://127.0.0.1:{port}/", server, results
    server.send_signal(signal.SIGINT)
    try:
        server.wait(20)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()
    print(log.read_text())  # shown by pytest when a test failed


@pytest.fixture(scope="module")
def browser(app):
    with sync_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def page(app, browser):
    """A fresh page of the workbench (a new session) that records console errors, with
    the win-back scenario open."""
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.errors = []
    page.on("console", lambda m: page.errors.append(f"{m.text} at {m.location}")
            if m.type == "error" else None)
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    page.goto(app[0])
    page.get_by_role("button", name="winback.toml").click()
    page.wait_for_selector("text=Editing scenarios/winback.toml", timeout=30_000)
    yield page
    page.close()


def acknowledged(page, fill, selector, text):
    """Do ``fill`` until the page shows ``text`` at ``selector``: an input typed into
    before its events are wired (a busy machine) is not seen by the server."""
    for _ in range(3):
        fill()
        try:
            page.locator(selector, has_text=text).wait_for(timeout=10_000)
            return
        except sync_api.TimeoutError:
            continue
    raise AssertionError(f"the page never showed {text!r} at {selector}")


def type_into(page, keys, text):
    box = page.locator(f".{field_class(keys)} input")

    def fill():
        box.fill(text)
        box.press("Enter")

    acknowledged(page, fill, ".lab-notice", f"{path_of(keys)}: {text}")


def field_class(keys):
    return css_class(path_of(keys))


def start_run(page, size=None, replications=None):
    """Run at ``size`` customers and ``replications`` (default: as the page has it)."""
    page.get_by_role("tab", name="Run and results").click()
    if size is None:
        page.locator(".lab-run").click()
        return

    def fill():
        for name, value in (("size", size), ("replications", replications)):
            box = page.locator(f".lab-run-{name} input")
            box.fill(str(value))
            box.press("Enter")

    acknowledged(page, fill, ".lab-plan", f"{size:,} customers, {replications} replications")
    page.locator(".lab-run").click()


def children(server):
    return psutil.Process(server.pid).children(recursive=True)


def test_a_run_shows_the_numbers_of_the_folder_it_wrote(app, page):
    _, server, results = app
    type_into(page, (*COUPON, "amount_off"), "80")
    type_into(page, ("horizon_weeks",), "26")
    start_run(page, 500, 2)
    page.wait_for_selector(".lab-status:has-text('done')", timeout=RUN_TIMEOUT_MS)
    page.wait_for_selector(".lab-headline td[data-metric]", timeout=30_000)
    [folder] = [p for p in results.iterdir() if not p.name.startswith(".")]
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["size"] == 500 and manifest["replications"] == 2
    assert manifest["scenario"]["arms"][1]["policies"][0]["amount_off"] == 80
    assert manifest["horizon_weeks"] == 26
    summary = pd.read_csv(folder / "summary.csv").set_index(["arm", "metric"])
    cells = page.evaluate(
        "[...document.querySelectorAll('.lab-headline td[data-metric]')].map(td => "
        "[td.dataset.arm, td.dataset.metric, td.dataset.kind, td.dataset.value, "
        "td.innerText])")
    compared = 0
    for arm, metric, kind, value, text in cells:
        column = "estimate" if kind == "estimate" else "effect_vs_control"
        expected = summary.loc[(arm, metric), column]
        if math.isnan(expected):
            continue
        assert float(value) == pytest.approx(expected, rel=1e-12)
        assert text.split("\n")[0] == format_value(metric, expected, kind == "effect")
        compared += 1
    assert compared > 20  # three arms' estimates and two arms' effects
    page.wait_for_selector(".js-plotly-plot", timeout=30_000)
    SCREENSHOT.parent.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOT))
    assert children(server) == []  # the run's processes have all ended
    assert page.errors == []


def test_a_bad_value_shows_the_command_line_message_and_nothing_runs(app, page):
    _, server, results = app
    before = sorted(results.iterdir())
    type_into(page, (*COUPON, "min_spend"), "50")
    data = edited(read_scenario_data(ROOT / WINBACK), (*COUPON, "min_spend"), 50)
    with pytest.raises(ScenarioError) as raised:
        validate_scenario(data)
    [expected] = [e for e in raised.value.errors if e.startswith("arms[1].policies[0].min_")]
    assert expected == ("arms[1].policies[0].min_spend: must be greater than amount_off "
                        "(100), got 50")
    shown = page.locator(f".{field_class((*COUPON, 'min_spend'))}")
    shown.get_by_text(expected).wait_for(timeout=10_000)
    start_run(page)
    page.wait_for_selector(".lab-blocked", timeout=10_000)
    time.sleep(1)
    assert children(server) == []
    assert sorted(results.iterdir()) == before
    page.get_by_role("tab", name="Scenario").click()
    type_into(page, (*COUPON, "min_spend"), "200")  # fixed: the message goes
    page.wait_for_selector(f"text={expected}", state="detached", timeout=10_000)
    assert page.errors == []


def test_cancel_stops_the_run_and_its_workers(app, page):
    _, server, results = app
    before = sorted(results.iterdir())
    start_run(page, 200_000, 4)
    page.wait_for_selector(".lab-cancel", timeout=10_000)
    deadline = time.monotonic() + 30
    while len(children(server)) < 3 and time.monotonic() < deadline:
        time.sleep(0.2)  # the run, its forkserver and its workers
    assert len(children(server)) >= 3
    page.locator(".lab-cancel").click()
    page.wait_for_selector(".lab-status:has-text('cancelled')", timeout=30_000)
    assert children(server) == []
    assert sorted(results.iterdir()) == before  # no results folder, no checkpoint
    assert re.search(r"^cancelled", page.locator(".lab-status").inner_text())
    assert page.errors == []
