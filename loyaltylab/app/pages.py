"""The workbench's page (Solara): the scenario, the run and its results, comparisons.

Three tabs:

- **Scenario**: open a shipped or user scenario file, or start from a design template;
  edit the scenario's settings, its population and economics, and each arm's policies
  in forms built from the models (:mod:`loyaltylab.app.fields`), each problem of
  ``loyaltylab validate`` shown beside its field; save the scenario as a file.
- **Run and results**: run at a quick-look size or at the scenario's own, in worker
  processes (:mod:`loyaltylab.app.jobs`) with a progress bar and a cancel button; then
  the headline table and the targets (the report's own tables), the report's charts
  as interactive figures and the weekly series of any metric.
- **Compare**: the results folders in ``--results``, any two runs side by side (by
  default this run and the one before), a sweep's designs and a sensitivity
  analysis's rankings.

State lives in reactive variables, one set per browser session.
"""

from __future__ import annotations

import html
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import solara
import solara.lab

from loyaltylab.app import charts, compare
from loyaltylab.app.fields import FormField, form_fields, from_text, to_text
from loyaltylab.app.jobs import Job, Outcome
from loyaltylab.app.scenario_file import DEFAULT, edited, save_scenario, value_at
from loyaltylab.app.templates import TEMPLATES, shipped_scenarios, template
from loyaltylab.app.validation import Check, check, path_of, whole_number
from loyaltylab.errors import InputError
from loyaltylab.experiments.report import headline_section, targets_section
from loyaltylab.experiments.results import ExperimentResult, default_destination, read_results
from loyaltylab.experiments.scenario import (
    DESIGNS,
    Arm,
    PopulationConfig,
    Scenario,
    read_scenario_data,
)
from loyaltylab.policies import policy_class, registered
from loyaltylab.sim import Economics

#: Quick look: customers and replications of a run unless the full size is asked for.
QUICK_SIZE, QUICK_REPLICATIONS = 5000, 2

#: Scenario settings shown as fields (tables such as the arms get their own forms; the
#: targets, parameters, uncertainty, sweeps and search are kept as the file has them).
SCENARIO_FIELDS = ("name", "description", "horizon_weeks", "replications", "seed", "mode",
                   "burn_in_weeks", "repurchase_period_weeks")

CSS = """
.lab-page { max-width: 1280px; margin: 0 auto; padding: 8px 16px; }
.lab-progress-bar { width: 100%; height: 10px; }
.lab-help { color: #666; font-size: 0.8em; margin: -6px 0 8px 0; }
.lab-section { font-weight: 600; margin-top: 12px; }
.lab-table table { border-collapse: collapse; font-size: 0.9em; margin: 8px 0; }
.lab-table th, .lab-table td { border: 1px solid #ddd; padding: 3px 8px; text-align: right; }
.lab-table td:first-child, .lab-table th:first-child { text-align: left; }
.lab-table th { background: #f3f3f3; }
.lab-table .ci { color: #666; font-size: 0.85em; }
.lab-table .met { color: #11772d; font-weight: bold; }
.lab-table .not-met { color: #b3261e; font-weight: bold; }
.lab-table .uncertain { color: #8a6d00; font-weight: bold; }
"""

@dataclass(frozen=True)
class Shown:
    """A run's results as the page shows them: read, and the charts drawn, once."""

    folder: Path
    result: ExperimentResult
    figures: list[Any]

    @classmethod
    def load(cls, folder: Path) -> Shown:
        """Read the results folder ``folder`` and draw its charts."""
        result = read_results(folder)
        return cls(folder, result, charts.figures(result))


data: solara.Reactive[dict[str, Any] | None] = solara.reactive(None)
source = solara.reactive("")
pending: solara.Reactive[dict[str, tuple[str, str]]] = solara.reactive({})
notice = solara.reactive("")
quick = solara.reactive(True)
size_text = solara.reactive(str(QUICK_SIZE))
replications_text = solara.reactive(str(QUICK_REPLICATIONS))
job: solara.Reactive[Job | None] = solara.reactive(None)
attempted = solara.reactive(False)
progress = solara.reactive((0, 0))
status = solara.reactive("")
failure: solara.Reactive[list[str]] = solara.reactive([])
shown: solara.Reactive[Shown | None] = solara.reactive(None)
previous: solara.Reactive[Path | None] = solara.reactive(None)
series = solara.reactive("net_revenue")
compare_a = solara.reactive("")
compare_b = solara.reactive("")


def results_folder() -> Path:
    """Where runs are written and compared from (``loyaltylab app --results``)."""
    return Path(os.environ.get("LOYALTYLAB_APP_RESULTS", "results"))


def css_class(path: str) -> str:
    """The CSS class of a field's input (``arms[1].name`` -> ``lab-field-arms-1-name``),
    by which a person's tools and the tests find it."""
    return "lab-field-" + re.sub(r"[^A-Za-z0-9_]+", "-", path).strip("-")


# ---------------------------------------------------------------------- the form's layout
Entry = tuple[tuple[str | int, ...], FormField]


@dataclass(frozen=True)
class Section:
    """A titled part of the form: its fields, and the arm or policy it edits, if any."""

    title: str
    entries: list[Entry]
    arm: int | None = None
    policy: int | None = None


def _fields(model: type, keys: tuple[str | int, ...], currency: str,
            names: tuple[str, ...] | None = None) -> list[Entry]:
    """The fields of ``model`` at ``keys`` (only ``names``, if given)."""
    return [((*keys, f.name), f) for f in form_fields(model, currency)
            if names is None or f.name in names]


def _type_field() -> FormField:
    return FormField("type", "choice", None, True, False, tuple(registered()), "", "",
                     "The registered policy: its parameters follow.")


def layout(table: dict[str, Any]) -> list[Section]:
    """The form of the scenario ``table``, in the order shown; the problems of fields
    not in it are shown above the form."""
    economics = table.get("economics") if isinstance(table.get("economics"), dict) else {}
    currency = str(economics.get("currency", "yuan"))
    sections = [
        Section("Scenario", _fields(Scenario, (), currency, SCENARIO_FIELDS)),
        Section("Population", _fields(PopulationConfig, ("population",), currency,
                                      ("size", "segments"))),
        Section("Economics", _fields(Economics, ("economics",), currency)),
    ]
    arms = table.get("arms") if isinstance(table.get("arms"), list) else []
    for i, arm in enumerate(arms):
        entries = _fields(Arm, ("arms", i), currency, ("name", "control", "share"))
        if isinstance(arm, dict) and "design" in arm:
            design = FormField("design", "choice", None, False, False, tuple(DESIGNS), "",
                               "", "A ready-made design (its parameters are its own).")
            entries.append((("arms", i, "design"), design))
        sections.append(Section(f"Arm {i}", entries, arm=i))
        policies = arm.get("policies", []) if isinstance(arm, dict) else []
        for j, policy in enumerate(policies if isinstance(policies, list) else []):
            keys: tuple[str | int, ...] = ("arms", i, "policies", j)
            entries = [((*keys, "type"), _type_field())]
            kind = policy.get("type") if isinstance(policy, dict) else None
            if kind in registered():
                entries += _fields(policy_class(kind), keys, currency)
            sections.append(Section(f"Arm {i}, policy {j}: {kind}", entries, arm=i,
                                    policy=j))
    return sections


# ---------------------------------------------------------------------- editing
def open_table(table: dict[str, Any], where: str) -> None:
    """Start editing ``table``, which came from ``where``."""
    data.set(table)
    source.set(where)
    pending.set({})
    notice.set(f"opened {where}")


def open_file(path: str) -> None:
    """Open the scenario file ``path``: its table, not yet validated (problems are shown
    beside their fields)."""
    try:
        open_table(read_scenario_data(path), path)
    except InputError as exc:
        notice.set("; ".join(exc.lines()))


def set_value(keys: tuple[str | int, ...], value: Any) -> None:
    """Set the scenario's value at ``keys`` (:data:`DEFAULT`: leave it out)."""
    assert data.value is not None
    data.set(edited(data.value, keys, value))


def type_in(keys: tuple[str | int, ...], field: FormField, text: str) -> None:
    """What was typed into ``field``: into the scenario, or a problem beside the field
    when it is not a TOML value."""
    path = path_of(keys)
    others = {k: v for k, v in pending.value.items() if k != path}
    try:
        value = from_text(field, text)
    except ValueError as exc:
        pending.set({**others, path: (text, f"{path}: {exc}")})
        return
    pending.set(others)
    set_value(keys, value)
    notice.set(f"{path}: {text.strip() or 'left to its default'}")


@solara.component
def FieldInput(keys: tuple[str | int, ...], field: FormField, problems: str) -> None:
    """One field: its input, its problems (as the command line words them) and its
    help (range, default, what it means)."""
    assert data.value is not None
    path = path_of(keys)
    value = value_at(data.value, keys)
    typed, local = pending.value.get(path, (None, ""))
    error = "\n".join(p for p in (local, problems) if p) or False
    default = "required" if field.required else f"default {to_text(field, field.default) or 'none'}"
    hint = "; ".join(p for p in (field.bounds, default, field.help) if p)
    with solara.Column(gap="0px", classes=[css_class(path)]):
        if field.kind == "flag":
            solara.Checkbox(label=field.label, value=bool(field.default if value is DEFAULT
                                                            else value),
                            on_value=lambda v: set_value(keys, v))
        elif field.kind == "choice":
            blank = f"(default: {to_text(field, field.default) or 'none'})"
            current = blank if value is DEFAULT else str(value)
            values = [blank, *field.choices]
            if current not in values:
                values.append(current)
            solara.Select(label=field.label, values=values, value=current,
                          on_value=lambda v: set_value(keys, DEFAULT if v == blank else v))
        else:
            solara.InputText(label=field.label,
                             value=typed if typed is not None else to_text(field, value),
                             on_value=lambda text: type_in(keys, field, text),
                             error=error, placeholder=to_text(field, field.default) or None)
        solara.HTML(tag="div", unsafe_innerHTML=html.escape(hint), classes=["lab-help"])
        if error and field.kind in ("flag", "choice"):  # a text input shows its own
            solara.Error(str(error), dense=True)


def _arm_buttons(i: int, arm: dict[str, Any]) -> None:
    """Buttons adding a policy of each registered type to arm ``i``, and removing it."""
    with solara.Row():
        if "design" not in arm:
            for kind in registered():
                policies = list(arm.get("policies", []))
                solara.Button(f"+ {kind}", small=True, text=True,
                              on_click=lambda k=kind, p=policies: set_value(
                                  ("arms", i, "policies"), [*p, {"type": k}]))
        solara.Button("remove arm", small=True, text=True, color="error",
                      on_click=lambda: set_value(("arms", i), DEFAULT))


@solara.component
def ScenarioForm(checked: Check) -> None:
    """The forms of the scenario being edited, problems beside their fields."""
    table = data.value
    assert table is not None
    sections = layout(table)
    placed = {path_of(keys) for section in sections for keys, _ in section.entries}
    with solara.Column():  # one place, whether or not there are problems (see Page)
        for line in [*checked.elsewhere(placed), *(v[1] for k, v in pending.value.items()
                                                    if k not in placed)]:
            solara.Error(line, dense=True, classes=["lab-elsewhere"])
    for section in sections:
        solara.HTML(tag="div", unsafe_innerHTML=html.escape(section.title),
                    classes=["lab-section"])
        with solara.ColumnsResponsive(default=12, medium=6, large=4):
            for keys, field in section.entries:
                FieldInput(keys, field, checked.at(path_of(keys))).key(path_of(keys))
        if section.policy is not None:
            solara.Button("remove policy", small=True, text=True, color="error",
                          on_click=lambda keys=("arms", section.arm, "policies",
                                                section.policy): set_value(keys, DEFAULT))
        elif section.arm is not None:
            _arm_buttons(section.arm, table["arms"][section.arm])
    arms = table.get("arms") if isinstance(table.get("arms"), list) else []
    solara.Button("+ arm", small=True, text=True, on_click=lambda: set_value(
        ("arms",), [*arms, {"name": f"arm {len(arms)}"}]))
    kept = [k for k in ("targets", "parameters", "uncertainty", "sweep", "search") if k in table]
    if kept:
        solara.Text(f"Kept as the file has them (edit them in the file): {', '.join(kept)}.")


@solara.component
def OpenPanel() -> None:
    """Open a shipped scenario, a file by its path, or a design template."""
    path, set_path = solara.use_state("")
    with solara.Row(style={"flex-wrap": "wrap", "align-items": "center"}):
        solara.Text("Shipped scenarios:")
        for file in shipped_scenarios():
            solara.Button(file.name, small=True, outlined=True,
                          on_click=lambda f=file: open_file(str(f)))
    with solara.Row(style={"align-items": "center"}):
        solara.InputText("scenario file", value=path, on_value=set_path,
                         classes=["lab-open-path"])
        solara.Button("Open", on_click=lambda: open_file(path), classes=["lab-open"])
        solara.Text("Templates:")
        for name in TEMPLATES:
            solara.Button(name, small=True, outlined=True,
                          on_click=lambda n=name: open_table(template(n), f"template {n}"))


@solara.component
def SavePanel(checked: Check) -> None:
    """Save the scenario as a file (only a valid one: as ``loyaltylab validate``)."""
    table = data.value
    assert table is not None
    path, set_path = solara.use_state(f"{table.get('name', 'scenario')}.toml")

    def save() -> None:
        try:
            save_scenario(table, path)
        except InputError as exc:
            notice.set("not saved: " + "; ".join(exc.lines()))
            return
        notice.set(f"saved to {path} (check it with: loyaltylab validate {path})")

    with solara.Row(style={"align-items": "center"}):
        solara.InputText("save as", value=path, on_value=set_path, classes=["lab-save-path"])
        solara.Button("Save", on_click=save, disabled=not checked.ok, classes=["lab-save"])


# ---------------------------------------------------------------------- running
@solara.lab.task
def follow(running: Job) -> Outcome:
    """Wait for ``running`` in a thread (the page stays responsive), reporting
    progress; then show its results or why there are none."""
    outcome = running.wait(lambda done, total: progress.set((done, total)))
    if outcome.done:
        # Read here, in the task's thread, not while the page is drawn.
        ready = Shown.load(outcome.out)
        job.set(None)
        previous.set(shown.value.folder if shown.value is not None else None)
        shown.set(ready)
        status.set(f"done: results written to {outcome.out}")
        failure.set([])
        return outcome
    job.set(None)
    if running.cancelled:
        status.set("cancelled: the run and its worker processes were stopped; nothing "
                   "was written")
    else:
        status.set(f"the run failed (exit code {outcome.code})")
        failure.set(outcome.errors[-20:])
    return outcome


def checked_now() -> Check:
    """The scenario and the run's settings as they are now, checked as ``loyaltylab run``
    would check them."""
    if data.value is None:
        return Check(None)
    return check(data.value, whole_number(size_text.value) if quick.value else None,
                 whole_number(replications_text.value) if quick.value else None)


def start() -> None:
    """Run the experiment, unless a check fails: then nothing runs."""
    attempted.set(True)
    checked = checked_now()
    if not checked.ok or checked.scenario is None or data.value is None:
        status.set("nothing runs until the problems shown are fixed")
        return
    scenario = checked.scenario
    out = default_destination(scenario.name, results_folder())
    size = scenario.population.customers if quick.value else None
    replications = scenario.replications if quick.value else None
    running = Job(data.value, out, size=size, replications=replications).start()
    job.set(running)
    progress.set((0, scenario.replications))
    status.set(f"running {scenario.name}: {scenario.population.customers:,} customers, "
               f"{scenario.replications} replications of {scenario.horizon_weeks} weeks")
    failure.set([])
    follow(running)


@solara.component
def RunPanel(checked: Check) -> None:
    """The run's size, the run and cancel buttons, the progress bar."""
    running = job.value
    with solara.Row(style={"align-items": "center", "flex-wrap": "wrap"}):
        solara.Checkbox(label="quick look (else the scenario's size and replications)",
                        value=quick)
        if quick.value:
            solara.InputText("customers", value=size_text, error=checked.at("size") or False,
                             classes=["lab-run-size"])
            solara.InputText("replications", value=replications_text,
                             error=checked.at("replications") or False,
                             classes=["lab-run-replications"])
        solara.Button("Run", color="primary", on_click=start,
                      disabled=running is not None, classes=["lab-run"])
        if running is not None:
            solara.Button("Cancel", color="error", on_click=running.cancel,
                          classes=["lab-cancel"])
    with solara.Column():  # below the inputs, so that they stay as they are (see Page)
        _run_messages(checked, running)


def _run_messages(checked: Check, running: Job | None) -> None:
    """What the run will do, its progress, its outcome."""
    if checked.scenario is not None and running is None:
        s = checked.scenario
        solara.Text(f"Run will simulate {s.population.customers:,} customers, "
                    f"{s.replications} replications of {s.horizon_weeks} weeks, "
                    f"{len(s.arms)} arms", classes=["lab-plan"])
    done, total = progress.value
    if running is not None:
        # A plain <progress>: it sends nothing back (Vuetify's bar is an input, bound to
        # its value).
        solara.HTML(tag="progress", attributes={"value": str(done), "max": str(total or 1)},
                    classes=["lab-progress-bar"])
        writing = "; writing the results folder and its report" if done == total else ""
        solara.Text(f"{done} of {total} replications{writing}", classes=["lab-progress"])
    if status.value:
        solara.Text(status.value, classes=["lab-status"])
    if attempted.value and not checked.ok:
        count = sum(len(lines) for lines in checked.errors.values())
        solara.Error(f"{count} problem(s): see the Scenario tab (or below); nothing runs.",
                     classes=["lab-blocked"])
        for line in checked.errors.get("size", []) + checked.errors.get("replications", []):
            solara.Error(line, dense=True)
    for line in failure.value:
        solara.Error(line, dense=True)


# ---------------------------------------------------------------------- results
def table_html(frame: Any) -> str:
    """A DataFrame as an HTML table in the page's style."""
    return frame.to_html(index=False, border=0, na_rep="-", escape=True)


@solara.component
def ResultsPanel(run: Shown) -> None:
    """The results of a run: headline, targets, charts, weekly series."""
    folder, result = run.folder, run.result
    solara.Text(f"{result.scenario.name}: {result.scenario.population.customers:,} customers, "
                f"{result.scenario.replications} replications of "
                f"{result.scenario.horizon_weeks} weeks; the report: {folder / 'report.html'}",
                classes=["lab-shown"])
    solara.HTML(unsafe_innerHTML=headline_section(result), classes=["lab-table",
                                                                    "lab-headline"])
    solara.HTML(unsafe_innerHTML=targets_section(result), classes=["lab-table"])
    for figure in run.figures:
        solara.FigurePlotly(figure)
    columns = charts.series_columns(result)
    column = series.value if series.value in columns else columns[0]
    solara.Select(label="weekly series", values=columns, value=column, on_value=series.set)
    solara.FigurePlotly(solara.use_memo(lambda: charts.series_figure(result, column),
                                        [folder, column]))


# ---------------------------------------------------------------------- comparing
@solara.component
def ComparePanel() -> None:
    """Two runs side by side; a sweep's designs; a sensitivity analysis's rankings."""
    folders = compare.results_folders(results_folder())
    labels = {f.label: f for f in folders}
    solara.HTML(unsafe_innerHTML=table_html(pd.DataFrame(
        [{"folder": f.path.name, "kind": f.kind, "scenario": f.scenario,
          "customers": f.size, "started": f.started} for f in folders])),
        classes=["lab-table"])
    this = shown.value.folder if shown.value is not None else None
    default_a = next((f.label for f in folders if f.path == this),
                     folders[0].label if folders else "")
    default_b = next((f.label for f in folders if f.path == previous.value),
                     folders[min(1, len(folders) - 1)].label if folders else "")
    a = compare_a.value if compare_a.value in labels else default_a
    b = compare_b.value if compare_b.value in labels else default_b
    chosen = [labels[x] for x in (a, b) if x in labels]
    runs = solara.use_memo(lambda: {f.path.name: read_results(f.path) for f in chosen
                                    if f.kind != "sensitivity"}, [a, b])
    if not folders:
        solara.Text(f"No results folder in {results_folder()} yet: run a scenario first.")
        return
    with solara.Row():
        solara.Select(label="this", values=list(labels), value=a, on_value=compare_a.set)
        solara.Select(label="against", values=list(labels), value=b, on_value=compare_b.set)
    if runs:
        solara.HTML(unsafe_innerHTML=table_html(compare.side_by_side(runs).reset_index(
            names="metric")), classes=["lab-table", "lab-compare"])
    for folder in dict.fromkeys(chosen):
        if folder.kind in ("sweep", "search"):
            solara.Text(f"{folder.path.name}: the {folder.kind}'s designs (effects against "
                        "the control)")
            solara.HTML(unsafe_innerHTML=table_html(compare.sweep_table(runs[
                folder.path.name])), classes=["lab-table"])
        elif folder.kind == "sensitivity":
            solara.Text(f"{folder.path.name}: the assumptions that move each output most "
                        "('luck': the Monte Carlo noise)")
            solara.HTML(unsafe_innerHTML=table_html(compare.sensitivity_table(folder.path)),
                        classes=["lab-table"])


# ---------------------------------------------------------------------- the page
@solara.component
def Page() -> None:
    """The workbench."""
    solara.Style(CSS)
    solara.Title("loyaltylab workbench")
    table = data.value
    checked = solara.use_memo(checked_now, [table, size_text.value,
                                            replications_text.value, quick.value])
    with solara.Column(classes=["lab-page"]):
        solara.HTML(tag="h2", unsafe_innerHTML="loyaltylab workbench")
        # Always there, even empty: an element that comes and goes would shift the tabs
        # below it, and their inputs would be made anew under the user's typing.
        solara.Text(notice.value, classes=["lab-notice"])
        with solara.lab.Tabs():
            with solara.lab.Tab("Scenario"):
                OpenPanel()
                if table is not None:
                    solara.Text(f"Editing {source.value}", classes=["lab-source"])
                    ScenarioForm(checked)
                    SavePanel(checked)
            with solara.lab.Tab("Run and results"):
                if table is None:
                    solara.Text("Open a scenario or a template first (Scenario tab).")
                else:
                    RunPanel(checked)
                if shown.value is not None:
                    ResultsPanel(shown.value)
            with solara.lab.Tab("Compare"):
                ComparePanel()
