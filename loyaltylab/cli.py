"""The ``loyaltylab`` command.

Exit codes: 0 success; 1 ``facts`` found a failing fact; 2 bad input (a scenario,
population file, transaction log, results folder, option or output destination; one
line per problem on standard error, nothing written); 70 an internal error, a bug in
loyaltylab (the traceback and how to report it on standard error); 130 interrupted.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import traceback
from collections.abc import Iterator, Sequence
from importlib import metadata
from pathlib import Path

import numpy as np
import pandas as pd

from loyaltylab import interrupts
from loyaltylab.agents import (
    HoldoutResult,
    PopulationSpec,
    calibrate,
    default_population,
    holdout_check,
    load_population,
    load_segment_rules,
    plot_conditional_expectations,
    read_campaigns,
    read_transactions,
    save_population,
    summarise,
    truncation_sign,
)
from loyaltylab.agents.transactions import RETURNS
from loyaltylab.errors import InputError
from loyaltylab.experiments import (
    ExperimentResult,
    default_destination,
    load_scenario,
    optimise,
    read_results,
    run,
)
from loyaltylab.experiments.atomic import atomic_path, check_writable
from loyaltylab.experiments.checkpoint import checkpoint_folder
from loyaltylab.experiments.metrics import against_control, format_cell, headline
from loyaltylab.experiments.report import write_report
from loyaltylab.experiments.runner import MAX_WORKERS
from loyaltylab.experiments.scenario import MAX_DRAWS, MAX_REPLICATIONS
from loyaltylab.experiments.sensitivity import read_sensitivity, sensitivity
from loyaltylab.experiments.targets import change_text
from loyaltylab.experiments.uncertainty_report import interval_text, write_sensitivity_report
from loyaltylab.policies import full_strategy
from loyaltylab.sim import ACTIVE_WINDOW_WEEKS, MAX_CUSTOMERS, LoyaltyModel
from loyaltylab.sim.backend import BACKENDS
from loyaltylab.validation import check_facts, studies

#: Exit codes of the command (see the module docstring and the README).
EXIT_OK = 0
EXIT_FACT_FAILED = 1
EXIT_BAD_INPUT = 2
EXIT_BUG = 70  # EX_SOFTWARE of sysexits.h
EXIT_INTERRUPTED = 130

EXIT_CODES = f"""exit codes:
  {EXIT_OK}    success
  {EXIT_FACT_FAILED}    facts: a stylized fact failed
  {EXIT_BAD_INPUT}    bad input (scenario, population file, transaction log, results folder,
       option, output destination): one line per problem, nothing written
  {EXIT_BUG}   internal error, a bug in loyaltylab: the traceback, and how to report it
  {EXIT_INTERRUPTED}  interrupted (Ctrl-C or SIGTERM, at any moment)"""


def _integer(name: str, lower: int = 1, upper: int | None = None) -> type:
    """An argparse type: an integer in ``[lower, upper]``, errors naming the option."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{name}: expected an integer, got {text!r}") from None
        if value < lower or (upper is not None and value > upper):
            bound = f" and <= {upper}" if upper is not None else ""
            raise argparse.ArgumentTypeError(
                f"{name}: must be >= {lower}{bound}, got {value}")
        return value

    return parse  # type: ignore[return-value]


def _positive(name: str, upper: int | None = None) -> type:
    return _integer(name, 1, upper)


def _seed(name: str = "--seed") -> type:
    return _integer(name, 0)


@contextlib.contextmanager
def _writing(option: str, path: Path) -> Iterator[None]:
    """Report a failed write of an output (a full disk, a permission) as bad input
    naming ``option``, not as a bug."""
    try:
        yield
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise InputError(f"{option}: cannot write {path}: {reason}") from None


def write_csv_atomically(frame: pd.DataFrame, path: Path, option: str = "--out") -> None:
    """Write ``frame`` to ``path`` through a temporary file renamed into place."""
    with _writing(option, path), atomic_path(path) as tmp:
        frame.to_csv(tmp, index=False)


def quarterly(weekly: pd.DataFrame) -> pd.DataFrame:
    """Quarter totals of purchases and money, customer counts at each quarter's end."""
    quarter = (weekly["week"] - 1) // 13 + 1
    table = weekly.groupby(quarter).agg(
        last_week=("week", "max"),
        alive=("alive", "last"),
        active=("active", "last"),
        purchases=("purchases", "sum"),
        net_revenue=("net_revenue", "sum"),
        margin=("margin", "sum"),
    )
    return table.rename_axis("quarter").reset_index().round(0)


def segment_outcomes(model: LoyaltyModel) -> pd.DataFrame:
    """Per-segment outcomes at the end of a run: retention, purchases, revenue, value."""
    frame = model.customers_frame(
        ["segment", "alive", "purchases", "last_purchase", "net_revenue", "margin_pv"]
    )
    frame["active"] = frame["last_purchase"] > model.week - ACTIVE_WINDOW_WEEKS
    table = frame.groupby("segment", observed=True).agg(
        customers=("alive", "size"),
        retention=("active", "mean"),
        alive=("alive", "mean"),
        purchases=("purchases", "mean"),
        net_revenue=("net_revenue", "mean"),
        margin_pv=("margin_pv", "mean"),
    )
    return table.round({"retention": 3, "alive": 3, "purchases": 2, "net_revenue": 0,
                        "margin_pv": 0})


def compare_twins(control: LoyaltyModel, program: LoyaltyModel) -> pd.DataFrame:
    """Totals of a program run next to its no-program twin (same customers, same luck)."""
    rows = {}
    components = [c for c in program.weekly.columns if c.startswith("cost_")]
    for name, model in (("no program", control), ("program", program)):
        w = model.weekly
        totals = {
            "active at end": w["active"].iloc[-1],
            "alive at end": w["alive"].iloc[-1],
            "purchases": w["purchases"].sum(),
            "gross revenue": w["gross_revenue"].sum(),
            "net revenue": w["net_revenue"].sum(),
            "program cost": w["program_cost"].sum(),
            **{f"  {c[5:]}": w[c].sum() if c in w else 0.0 for c in components},
            "margin": w["margin"].sum(),
            "points earned": w["points_earned"].sum(),
            "points redeemed": w["points_redeemed"].sum(),
            "points expired": w["points_expired"].sum(),
            "points outstanding": w["points_outstanding"].iloc[-1],
        }
        rows[name] = totals
    table = pd.DataFrame(rows)
    table["difference"] = table["program"] - table["no program"]
    return table.round(0)


def simulate(args: argparse.Namespace) -> int:
    """Simulate the default customer base, with no program or under a design."""
    if args.out:
        check_writable(Path(args.out), "--out")
    spec = default_population(args.size)
    model = LoyaltyModel(spec, seed=args.seed, backend=args.backend)
    model.run(args.weeks)
    currency = model.economics.currency
    design = "no program" if args.program == "none" else args.program
    print(f"loyaltylab: {args.size:,} customers (core loyal, potential loyal, basic, dormant), "
          f"{args.weeks} weeks, {design}, seed {args.seed}\n")
    if args.program != "none":
        program = LoyaltyModel(spec, policies=full_strategy(), seed=args.seed,
                               backend=args.backend)
        program.run(args.weeks)
        print(f"The full strategy against no program, same customers and luck "
              f"(totals over {args.weeks} weeks; money in {currency}):")
        print(compare_twins(model, program).to_string())
        print()
        model = program
    weekly = model.weekly
    print(f"By quarter (13 weeks; customers at the quarter's end; money in {currency}):")
    print(quarterly(weekly).to_string(index=False))
    print(f"\nBy segment at week {args.weeks} (per customer; retention = share active, "
          f"i.e. purchased in the last {ACTIVE_WINDOW_WEEKS} weeks):")
    print(segment_outcomes(model).to_string())
    if args.out:
        write_csv_atomically(weekly, Path(args.out))
        print(f"\nweekly series written to {args.out}")
    return 0


def validate(args: argparse.Namespace) -> int:
    """Check a scenario file without running it."""
    scenario = load_scenario(args.scenario)
    print(f"{args.scenario}: valid scenario {scenario.name!r}: {scenario.population.customers:,} "
          f"customers, {scenario.horizon_weeks} weeks, {scenario.replications} replications, "
          f"{scenario.mode} mode")
    for arm in scenario.arms:
        program = arm.design or ", ".join(p.type for p in arm.policies) or "no program"
        role = " (control)" if arm is scenario.control else ""
        print(f"  arm {arm.name!r}{role}: {program}")
    if scenario.search is not None:
        print(f"  search (loyaltylab optimise): arm {scenario.search.arm!r} over "
              f"{', '.join(scenario.search.space)}")
    return 0


def headline_table(result: ExperimentResult) -> pd.DataFrame:
    """The headline metrics of each arm, estimates and effects with 95% intervals."""
    summary = result.summary.set_index(["arm", "metric"])
    control = result.scenario.control.name
    rows = headline(result.scenario.repurchase_period_weeks)
    columns: dict[str, list[str]] = {}
    for arm in result.scenario.arms:
        cells, effects = [], []
        for metric, _ in rows:
            if (arm.name, metric) not in summary.index:
                cells.append("-")
                effects.append("-")
                continue
            row = summary.loc[(arm.name, metric)]
            cells.append(" ".join(format_cell(metric, row["estimate"], row["ci_low"],
                                              row["ci_high"])).strip())
            effects.append(" ".join(format_cell(
                metric, row["effect_vs_control"], row["effect_ci_low"],
                row["effect_ci_high"], effect=True)).strip())
        columns[arm.name] = cells
        if arm.name != control:
            columns[f"{arm.name} - {control}"] = effects
    return pd.DataFrame(columns, index=[label for _, label in rows])


def _workers(args: argparse.Namespace) -> int | None:
    """Local workers: as given; one process for a GPU, which the processes would
    otherwise share; else None, as many as the cores and the memory allow."""
    if args.workers is not None:
        return int(args.workers)
    return 1 if args.backend == "cupy" else None


def print_outcome(result: ExperimentResult) -> None:
    """Print the headline table of every arm and the strategy's targets."""
    scenario = result.scenario
    currency = scenario.economics.currency
    what = "mean of simulated pilots" if scenario.mode == "field" else "paired, twin worlds"
    print(f"\nPer arm over {scenario.horizon_weeks} weeks (money in {currency}; "
          f"95% intervals over replications; effects {what}):")
    print(headline_table(result).to_string())
    if len(result.targets):
        print("\nTargets (met: the whole 95% interval is past the threshold):")
        texts = [change_text(t) for t in result.targets.itertuples(index=False)]
        targets = result.targets.assign(
            change=[f"{c} {i}".strip() for c, i, _ in texts],
            threshold=[f"{t.direction} {th}" for t, (_, _, th) in
                       zip(result.targets.itertuples(index=False), texts, strict=True)])
        print(targets[["arm", "target", "change", "threshold", "status"]].to_string(
            index=False))
        notes = result.targets.dropna(subset=["note"])
        for target, note in dict(zip(notes["target"], notes["note"], strict=True)).items():
            if note:
                print(f"  {target}: {note}")
    if result.draws is not None:
        _print_plausible(result)


def run_command(args: argparse.Namespace) -> int:
    """Run a scenario's experiment and write its results folder."""
    scenario = load_scenario(args.scenario)
    out = _destination(args, scenario.name)
    size = args.size or scenario.population.customers
    replications = args.replications or scenario.replications
    draws = scenario.uncertainty.draws if args.uncertainty is None else args.uncertainty
    extra = f", {draws} parameter-uncertainty draws" if draws else ""
    print(f"loyaltylab: {scenario.name}: {size:,} customers, {len(scenario.arms)} arms, "
          f"{replications} replications of {scenario.horizon_weeks} weeks{extra}, "
          f"{scenario.mode} mode", flush=True)
    try:
        result = run(scenario, out=out, seed=args.seed, replications=args.replications,
                     size=args.size, workers=_workers(args), executor=args.executor,
                     scheduler=args.scheduler, progress=not args.quiet,
                     backend=args.backend, uncertainty=args.uncertainty,
                     resume=args.resume)
    except KeyboardInterrupt:
        return _interrupted(out)
    print_outcome(result)
    if result.trials is not None:
        power = result.summary.dropna(subset=["power"])
        print(f"\nPower of a pilot with {size:,} customers (share of {replications} simulated "
              f"pilots with a significant effect in the direction of the truth, "
              f"Holm-corrected, alpha 0.05; wrong_sign: significant the other way):")
        print(power[["arm", "metric", "effect_vs_control", "twin_effect", "power",
                     "wrong_sign"]]
              .round(4).to_string(index=False))
    print(f"\nResults written to {out} ({result.manifest['run_seconds']:.1f} s); "
          f"the report: {out / 'report.html'}")
    return 0


def _destination(args: argparse.Namespace, name: str) -> Path:
    """``--out``, or a new folder under results/; ``--resume`` needs ``--out``."""
    if getattr(args, "resume", False) and not args.out:
        raise InputError("--resume: needs --out, the results folder of the interrupted run")
    return Path(args.out) if args.out else default_destination(name)


def _interrupted(out: Path) -> int:
    kept = checkpoint_folder(out)
    where = (f"; finished units kept in {kept}: rerun with --out {out} --resume to continue"
             if kept.exists() else "")
    print(f"loyaltylab: interrupted; no results written{where}", file=sys.stderr)
    interrupts.handled()
    return EXIT_INTERRUPTED


def _print_plausible(result: ExperimentResult) -> None:
    """The headline effects over plausible worlds, beside the Monte Carlo intervals."""
    assert result.draws is not None
    n = int(result.draws["draw"].nunique())
    control = result.scenario.control.name
    summary = result.summary.set_index(["arm", "metric"])
    rows = []
    for metric, label in headline(result.scenario.repurchase_period_weeks):
        for arm in (a.name for a in result.scenario.arms if a.name != control):
            if (arm, metric) not in summary.index:
                continue
            row = summary.loc[(arm, metric)]
            est, low, high = row[list(against_control(metric))]
            rows.append({
                "arm": arm, "effect on": label,
                "estimate [Monte Carlo 95%]": " ".join(format_cell(
                    metric, est, low, high, effect=True)).strip(),
                "over plausible worlds": interval_text(
                    metric, row["effect_plausible_low"], row["effect_plausible_high"]),
                "P(> 0)": "-" if np.isnan(row["prob_effect_positive"])
                else f"{row['prob_effect_positive']:.0%}"})
    print(f"\nOver {n} plausible worlds (assumptions drawn from their ranges, each with its "
          "own luck): the Monte Carlo interval is the error given the assumptions; the "
          "interval over plausible worlds (2.5th-97.5th percentile of the draws) adds the "
          "uncertainty of the assumptions:")
    print(pd.DataFrame(rows).to_string(index=False))
    if "met_share" in result.targets:
        print("\nTargets met in plausible worlds:")
        met = ["-" if np.isnan(v) else f"{v:.0%}" for v in result.targets["met_share"]]
        print(result.targets.assign(met=met)[["arm", "target", "status", "met"]].to_string(
            index=False))


def sensitivity_command(args: argparse.Namespace) -> int:
    """Rank the assumptions by how much they move each verdict."""
    scenario = load_scenario(args.scenario)
    out = _destination(args, f"{scenario.name}-sensitivity")
    inputs = [name.strip() for name in args.inputs.split(",")] if args.inputs else None
    size = args.size or scenario.population.customers
    print(f"loyaltylab: sensitivity of {scenario.name} ({args.method}), {size:,} customers",
          flush=True)
    try:
        result = sensitivity(scenario, method=args.method, samples=args.samples,
                             inputs=inputs, size=args.size, seed=args.seed, out=out,
                             workers=_workers(args), scheduler=args.scheduler,
                             progress=not args.quiet, resume=args.resume,
                             backend=args.backend)
    except KeyboardInterrupt:
        return _interrupted(out)
    control = result.scenario.control.name
    print(f"\n{len(result.inputs)} inputs, {result.manifest['points']:,} twin-world "
          f"experiments; the three assumptions that move each output most ({result.index}; "
          f"'luck' is the Monte Carlo noise; effects against {control}):")
    print(result.top_inputs(3).to_string(index=False))
    print(f"\nResults written to {out} ({result.manifest['run_seconds']:.1f} s); "
          f"the report: {out / 'report.html'}")
    return 0


def optimise_command(args: argparse.Namespace) -> int:
    """Search a scenario's design space, re-run the best designs, write the results."""
    scenario = load_scenario(args.scenario)
    out = _destination(args, f"{scenario.name}-search")
    if scenario.search is not None:
        size = args.size or scenario.population.customers
        print(f"loyaltylab: {scenario.name}: searching {', '.join(scenario.search.space)} of "
              f"arm {scenario.search.arm!r}: {args.trials} trials in batches of {args.batch}, "
              f"{args.replications} replications of {size:,} customers each", flush=True)
    try:
        result = optimise(
            scenario, args.objective, directions=args.direction,
            constraints=args.constraint or (), trials=args.trials, batch=args.batch,
            replications=args.replications, final_replications=args.final_replications,
            top=args.top, size=args.size, seed=args.seed, workers=_workers(args),
            backend=args.backend, out=out, progress=not args.quiet)
    except KeyboardInterrupt:
        return _interrupted(out)
    info = result.manifest["search"]
    constraints = ", ".join(info["constraints"])
    print(f"\nSearch: {info['trials']} trials in {info['search_seconds']:.1f} s"
          + (f"; {info['feasible']} met the constraints ({constraints})" if constraints else ""))
    if info["selection"] == "closest":
        print("No trial met the constraints: the designs re-run are the closest to meeting "
              "them (the smallest total violation).")
    which = {"best": "the best", "pareto": "the Pareto front",
             "closest": "the closest to the constraints"}[info["selection"]]
    search = result.search
    assert search is not None  # optimise sets it
    shown = search.loc[search["selected"], ["trial", *info["space"], *info["objectives"]]]
    print(f"Designs re-run ({which}; objectives as differences from the control over the "
          f"search's {info['replications']} replications):")
    print(shown.to_string(index=False))
    print_outcome(result)
    seconds = info["search_seconds"] + result.manifest["run_seconds"]
    print(f"\nResults written to {out} ({seconds:.1f} s); the report: {out / 'report.html'}")
    return 0


def report_command(args: argparse.Namespace) -> int:
    """Write (or rewrite) report.html of a results folder or a sensitivity folder."""
    folder = Path(args.results)
    if (folder / "sensitivity.csv").is_file():
        analysis = read_sensitivity(folder)
        with _writing("results", folder):
            path = write_sensitivity_report(analysis, folder / "report.html")
    else:
        result = read_results(folder)
        with _writing("results", folder):
            path = write_report(result, folder)
    print(f"report written to {path}")
    return 0


def calibrate_command(args: argparse.Namespace) -> int:
    """Fit segments from a transaction log and write a population file."""
    if args.holdout_weeks and not args.calibration_weeks:
        raise InputError("--holdout-weeks: needs --calibration-weeks (the fitting period)")
    out = Path(args.out)
    check_writable(out, "--out")
    rules = load_segment_rules(args.segment_rules) if args.segment_rules else None
    if rules is not None and args.currency is None:
        raise InputError(f"--currency: needed with --segment-rules (the rules' thresholds "
                         f"are in {rules.currency!r}; say what the log's amounts are in)")
    transactions = read_transactions(
        args.transactions, customer_id=args.customer_id, date=args.date, amount=args.amount,
        interactions=args.interactions, returns=args.returns)
    notes = list(transactions.attrs.get("notes", []))
    end = None
    if args.calibration_weeks:
        start = pd.to_datetime(transactions["date"]).dt.normalize().min()
        end = start + pd.Timedelta(days=7 * args.calibration_weeks - 1)
    summary = summarise(transactions, end, warm_up_weeks=args.warm_up_weeks)
    if not args.warm_up_weeks:
        sign = truncation_sign(summary)
        if sign:
            notes.append(sign)
    holdout = None
    if args.holdout_weeks:
        holdout = holdout_check(
            transactions, args.calibration_weeks, args.holdout_weeks, segments=args.segments,
            seed=args.seed, warm_up_weeks=args.warm_up_weeks, late_joiners=args.late_joiners,
            rules=rules, currency=args.currency)
        calibration = holdout.calibration
    else:
        calibration = calibrate(summary, args.segments, seed=args.seed, rules=rules,
                                currency=args.currency)
    notes += [n for n in calibration.notes if n not in notes]
    if holdout is not None:
        notes += list(holdout.notes)
    if args.currency is None:
        notes.append("currency: not given (--currency); the population's amounts are read "
                     "in the scenario's currency")
    table = calibration.table().reset_index()
    currency = f", amounts in {args.currency}" if args.currency else ""
    print(f"loyaltylab: {len(calibration.assignment):,} customers from {args.transactions}, "
          f"segments {args.segments!r}{currency}, log-likelihood "
          f"{calibration.log_likelihood:,.1f}")
    shown = table[["segment", "customers", "share"]].copy()
    for name in ("r", "alpha", "a", "b", "p", "q", "gamma"):
        shown[name] = [f"{v:.4g} ± {se:.2g}" for v, se in zip(table[name], table[f"se_{name}"],
                                                               strict=True)]
    shown["log_likelihood"] = table["log_likelihood"].round(1)
    print(shown.to_string(index=False))
    print("(estimate ± standard error from the observed information; inf: at a bound)")
    for row in table.itertuples():
        for what, text in (("flags", row.flags), ("notes", row.notes)):
            if text:
                print(f"  {row.segment} {what}: {text}")
    population, response = calibration.population, None
    if args.campaigns:
        population, response, fitted = _fit_campaigns(args, transactions, population)
        notes += fitted
        notes.append("satisfaction and the other incentive responses: loyaltylab's defaults "
                     "(the log has no survey data, and campaigns inform only the coupon "
                     "response)")
    else:
        notes.append("incentive response and satisfaction: loyaltylab's defaults (the log "
                     "has no campaign or survey data to fit them from; --campaigns fits the "
                     "coupon response)")
    print("\nNotes:")
    for note in notes:
        print(f"  - {note}")
    with _writing("--out", out), atomic_path(out) as tmp:
        save_population(population, tmp, fits=calibration, source=str(args.transactions),
                        notes=notes, response=response)
        if holdout is not None:
            _write_holdout(holdout, out)
    print(f"population file written to {out}")
    return 0


def _fit_campaigns(
    args: argparse.Namespace, transactions: pd.DataFrame, population: PopulationSpec,
) -> tuple[PopulationSpec, dict[str, tuple[float, float]], list[str]]:
    """Fit the coupon response to ``--campaigns``; print the fit; return the population
    with the segments' fitted top-up tolerance, the ``[response]`` table and notes."""
    from loyaltylab.experiments import fit_campaign_response

    campaigns = read_campaigns(args.campaigns)
    print(f"\nFitting the coupon response to {len(campaigns):,} coupons of "
          f"{campaigns['campaign'].nunique():,} campaign(s) in {args.campaigns} "
          f"(simulated moments, {args.simulations} simulated customers per customer)...",
          flush=True)
    fit = fit_campaign_response(transactions, campaigns, population, seed=args.seed,
                                simulations=args.simulations)
    table = fit.table()
    print(table.to_string(float_format=lambda v: f"{v:.4g}"))
    print(fit.moments.to_string(float_format=lambda v: f"{v:.4g}"))
    if fit.j_pvalue is None:
        test = "exactly identified: no test of fit"
    else:
        verdict = "no evidence against" if fit.j_pvalue > 0.05 else "the data reject"
        test = (f"J = {fit.j_statistic:.3g} on {fit.j_dof} degree(s) of freedom, "
                f"p = {fit.j_pvalue:.3g}: {verdict} the model's coupon response")
    print(test)
    updates = fit.segment_updates(population)
    segments = [s.model_copy(update=updates.get(s.name, {})) for s in population.segments]
    response = {name: (value, fit.standard_errors[name])
                for name, value in fit.response_values().items()}
    estimates = ", ".join(f"{name} {fit.estimates[name]:.3g} ± {fit.standard_errors[name]:.2g}"
                          for name in fit.estimates)
    notes = [f"coupon response fitted from {args.campaigns} by simulated moments: "
             f"{estimates} ({test})", *fit.notes]
    return population.replace(segments=segments), response, notes


def _write_holdout(holdout: HoldoutResult, out: Path) -> None:
    """holdout.csv and holdout.png beside the population file; print the errors."""
    e = holdout.errors
    first_day = (holdout.calibration_end + pd.Timedelta(days=1)).date()
    print(f"\nHoldout ({first_day} to {holdout.holdout_end.date()}): "
          f"repeat purchases actual {e['actual']:,.0f}, analytic {e['analytic']:,.0f} "
          f"({e['analytic_vs_actual']:+.1%}), simulated {e['simulated']:,.0f} "
          f"({e['simulated_vs_actual']:+.1%}; simulator vs analytic "
          f"{e['simulated_vs_analytic']:+.2%})")
    weekly = holdout.weekly
    write_csv_atomically(weekly[["week", "actual", "simulated", "analytic"]],
                         out.parent / "holdout.csv")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
    for column, style in (("actual", "-"), ("simulated", "--"), ("analytic", ":")):
        axes[0].plot(weekly["week"], weekly[column], style, label=column)
        axes[1].plot(weekly["week"], weekly[f"cumulative_{column}"], style, label=column)
    end = int(weekly.loc[weekly["period"] == "calibration", "week"].max())
    for ax, title in zip(axes, ("Repeat purchases per week", "Cumulative repeat purchases"),
                         strict=True):
        ax.axvline(end + 0.5, color="grey", linewidth=0.8)
        ax.set_xlabel("week since the cohort's start (line: end of calibration)")
        ax.set_ylabel("repeat purchases")
        ax.set_title(title)
        ax.legend()
    with atomic_path(out.parent / "holdout.png") as tmp:
        fig.savefig(tmp, dpi=90, bbox_inches="tight", format="png")
    plt.close(fig)
    table = holdout.conditional
    if table is not None:
        print("\nMean holdout purchases by calibration-period purchases (the BG/NBD "
              "conditional-expectation check):")
        print(table.to_string(float_format=lambda v: f"{v:.3f}"))
        write_csv_atomically(table.reset_index(), out.parent / "conditional.csv")
        ax = plot_conditional_expectations(table)
        with atomic_path(out.parent / "conditional.png") as tmp:
            ax.figure.savefig(tmp, dpi=90, bbox_inches="tight", format="png")
    print(f"holdout.csv, holdout.png, conditional.csv and conditional.png written to "
          f"{out.parent}")


def facts_command(args: argparse.Namespace) -> int:
    """Check the stylized facts for a population (default or from a file)."""
    only = None
    if args.only:
        only = [name.strip() for name in args.only.split(",") if name.strip()]
        unknown = [name for name in only if name not in studies()]
        if unknown:
            raise InputError(f"--only: unknown study {unknown[0]!r}; studies are "
                             f"{', '.join(studies())}")
    if args.out:
        check_writable(Path(args.out), "--out")
    population = load_population(args.population) if args.population else None
    what = args.population or "the default population"
    print(f"loyaltylab: stylized facts for {what}, {args.size:,} customers per study, "
          f"seed {args.seed}", flush=True)
    table = check_facts(population=population, size=args.size, seed=args.seed, only=only,
                        progress=lambda name, s: print(f"  {name}: {s:.1f} s", flush=True))
    shown = pd.DataFrame({
        "fact": table["fact"],
        "measured": [f"{v:.3g} ± {se:.2g}" for v, se in zip(table["value"], table["se"],
                                                            strict=True)],
        "band": [f"[{lo:.3g}, {hi:.3g}]" for lo, hi in zip(table["low"], table["high"],
                                                           strict=True)],
        "status": table["status"],
        "claim": table["claim"],
    })
    print("\n" + shown.to_string(index=False))
    counts = table["status"].value_counts()
    print(f"\n{counts.get('pass', 0)} pass, {counts.get('uncertain', 0)} uncertain (a larger "
          f"--size decides), {counts.get('fail', 0)} fail; measured ± Monte Carlo standard "
          "error; pass: the whole 95% interval inside the band")
    if args.out:
        write_csv_atomically(table, Path(args.out))
        print(f"written to {args.out}")
    return EXIT_FACT_FAILED if counts.get("fail", 0) else EXIT_OK


def _backend_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--backend", choices=BACKENDS, default="numpy",
                        help="array library of the engine: numpy (CPU, default) or cupy "
                             "(GPU; pip install 'loyaltylab[gpu]')")


def _long_run_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--resume", action="store_true",
                        help="continue the interrupted run writing --out from its "
                             "checkpoint (same settings)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    _backend_option(parser)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="loyaltylab", description="Design loyalty programs before they launch.",
        epilog=EXIT_CODES, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    sub = parser.add_subparsers(dest="command", required=True)
    sim = sub.add_parser("simulate", help="simulate the default customer base")
    sim.add_argument("--size", type=_positive("--size", MAX_CUSTOMERS), default=100_000,
                     help="customers at week 0 (default 100000)")
    sim.add_argument("--weeks", type=_positive("--weeks", 32767), default=52,
                     help="weeks to simulate (default 52)")
    sim.add_argument("--seed", type=_seed(), default=1, help="random seed (default 1)")
    sim.add_argument("--program", choices=("none", "full-strategy"), default="none",
                     help="program design: none, or the full strategy compared with none")
    sim.add_argument("--out", help="write the weekly series to this CSV file")
    _backend_option(sim)
    sim.set_defaults(func=simulate)
    exp = sub.add_parser("run", help="run a scenario's experiment and write its results")
    exp.add_argument("scenario", help="scenario TOML file")
    exp.add_argument("--out", help="results folder (default results/<scenario>-<timestamp>)")
    exp.add_argument("--seed", type=_seed(), help="override the scenario's seed")
    exp.add_argument("--replications", type=_positive("--replications", MAX_REPLICATIONS),
                     help="override the scenario's replications")
    exp.add_argument("--size", type=_positive("--size", MAX_CUSTOMERS),
                     help="override the population size for a quick look")
    exp.add_argument("--workers", type=_positive("--workers", MAX_WORKERS),
                     help="local worker processes (default: the available cores; 1 on a GPU)")
    exp.add_argument("--executor", choices=("local", "dask"), default="local",
                     help="where replications run (dask needs --scheduler)")
    exp.add_argument("--scheduler", help="Dask scheduler address, e.g. tcp://host:8786")
    exp.add_argument("--uncertainty", type=_integer("--uncertainty", 0, MAX_DRAWS),
                     metavar="N", help="also run N parameter-uncertainty draws (default: the "
                                       "scenario's [uncertainty] draws)")
    _long_run_options(exp)
    exp.set_defaults(func=run_command)
    sen = sub.add_parser("sensitivity", help="which assumptions move the verdicts "
                                             "(Morris or Sobol, with SALib)")
    sen.add_argument("scenario", help="scenario TOML file")
    sen.add_argument("--method", choices=("morris", "sobol"), default="morris",
                     help="Morris screening (default) or Sobol indices")
    sen.add_argument("--samples", type=_integer("--samples", 2, 1_000_000),
                     help="Morris trajectories (default 10) or Sobol base samples "
                          "(default 256, a power of two)")
    sen.add_argument("--inputs", help="comma-separated groups (response, satisfaction, "
                                      "segments, economics) or input names (default: the "
                                      "scenario's [uncertainty] inputs)")
    sen.add_argument("--out", help="results folder (default "
                                   "results/<scenario>-sensitivity-<timestamp>)")
    sen.add_argument("--seed", type=_seed(), help="override the scenario's seed")
    sen.add_argument("--size", type=_positive("--size", MAX_CUSTOMERS),
                     help="override the population size")
    sen.add_argument("--workers", type=_positive("--workers", MAX_WORKERS),
                     help="local worker processes (default: the available cores; 1 on a GPU)")
    sen.add_argument("--scheduler", help="run on the Dask cluster at this address")
    _long_run_options(sen)
    sen.set_defaults(func=sensitivity_command)
    opt = sub.add_parser("optimise", help="search a scenario's [search] space for the best "
                                           "designs and re-run them")
    opt.add_argument("scenario", help="scenario TOML file with a [search] table")
    opt.add_argument("--objective", action="append", required=True, metavar="METRIC",
                     help="a metric to optimise, as its difference from the control (once, "
                          "or twice for a Pareto front)")
    opt.add_argument("--direction", action="append", choices=("maximize", "minimize"),
                     help="one per objective (default: minimize costs, churn and the payback "
                          "week, maximize the others)")
    opt.add_argument("--constraint", action="append", metavar="'METRIC <= VALUE'",
                     help="a bound on a metric's difference from the control (repeatable)")
    opt.add_argument("--trials", type=_positive("--trials"), default=40,
                     help="designs to try (default 40)")
    opt.add_argument("--batch", type=_positive("--batch"), default=8,
                     help="designs run together as one experiment (default 8)")
    opt.add_argument("--replications", type=_positive("--replications", MAX_REPLICATIONS),
                     default=2,
                     help="replications of each batch (default 2)")
    opt.add_argument("--final-replications",
                     type=_positive("--final-replications", MAX_REPLICATIONS),
                     help="replications of the best designs' final run (default: the "
                          "scenario's)")
    opt.add_argument("--top", type=_positive("--top"), default=3,
                     help="most designs re-run (default 3)")
    opt.add_argument("--size", type=_positive("--size", MAX_CUSTOMERS),
                     help="override the population size")
    opt.add_argument("--seed", type=_seed(), help="override the scenario's seed")
    opt.add_argument("--workers", type=_positive("--workers", MAX_WORKERS),
                     help="local worker processes (default: the available cores; 1 on a GPU)")
    opt.add_argument("--out", help="results folder (default results/<scenario>-search-"
                                   "<timestamp>)")
    opt.add_argument("--quiet", action="store_true", help="no progress bars")
    _backend_option(opt)
    opt.set_defaults(func=optimise_command)
    cal = sub.add_parser("calibrate", help="fit segments from a transaction log")
    cal.add_argument("transactions", help="CSV or Parquet: customer id, date, amount")
    cal.add_argument("--out", required=True, help="population file to write (TOML)")
    # a century: dates end in 2262 (nanosecond timestamps), and no log is older
    cal.add_argument("--calibration-weeks", type=_positive("--calibration-weeks", 5200),
                     help="fit on the first W weeks of the log (default: all of it)")
    cal.add_argument("--holdout-weeks", type=_positive("--holdout-weeks", 520),
                     help="compare simulated and actual repeat purchases over H more weeks")
    cal.add_argument("--segments", default="none",
                     help="none (one segment), rules (the strategy's four) or kmeans:K")
    cal.add_argument("--customer-id", default="customer_id", help="column of customer ids")
    cal.add_argument("--date", default="date", help="column of dates")
    cal.add_argument("--amount", default="amount", help="column of amounts")
    cal.add_argument("--interactions", help="optional column of interaction counts")
    cal.add_argument("--returns", choices=RETURNS, default="net",
                     help="negative amounts (returns): net them against the customer's "
                          "earlier purchases (default), drop them, or refuse the file")
    cal.add_argument("--warm-up-weeks", type=_integer("--warm-up-weeks", 0, 520),
                     default=0,
                     help="a log starting mid-relationship: customers first seen in its "
                          "first W weeks are existing customers (default 0: all new)")
    cal.add_argument("--late-joiners", choices=("exclude", "include"), default="exclude",
                     help="customers first seen in the holdout: reported and left out "
                          "(default), or forecast as new customers")
    cal.add_argument("--currency", help="currency of the amounts (e.g. USD); written to the "
                                        "population file")
    cal.add_argument("--segment-rules", help="TOML file of segment rules (thresholds in "
                                             "--currency) for --segments rules")
    cal.add_argument("--campaigns", help="campaign file (CSV or Parquet; one row per coupon "
                                         "sent: customer_id, campaign, start, end, "
                                         "amount_off, pct_off, min_spend, redeemed) to fit "
                                         "the coupon response from")
    cal.add_argument("--simulations", type=_positive("--simulations", 50), default=2,
                     help="simulated customers per customer when fitting --campaigns "
                          "(default 2)")
    cal.add_argument("--seed", type=_seed(), default=0, help="seed of k-means and the holdout")
    cal.set_defaults(func=calibrate_command)
    rep = sub.add_parser("report", help="write the report of a results folder")
    rep.add_argument("results", help="results folder written by loyaltylab run or "
                                     "loyaltylab sensitivity")
    rep.set_defaults(func=report_command)
    fac = sub.add_parser("facts", help="check the model against published stylized facts")
    fac.add_argument("--size", type=_positive("--size", 10_000_000), default=100_000,
                     help="customers per study (default 100000)")
    fac.add_argument("--seed", type=_seed(), default=0, help="random seed (default 0)")
    fac.add_argument("--population", help="population file (TOML, from loyaltylab calibrate)")
    fac.add_argument("--only", help="comma-separated studies: " + ", ".join(studies()))
    fac.add_argument("--out", help="write the table to this CSV file")
    fac.set_defaults(func=facts_command)
    app = sub.add_parser("app", help="the planner's workbench: edit, run and compare "
                                     "scenarios in a local web app (pip install "
                                     "'loyaltylab[app]')")
    app.add_argument("--host", default="127.0.0.1",
                     help="address to listen on (default 127.0.0.1: this computer only)")
    app.add_argument("--port", type=_integer("--port", 0, 65535), default=8765,
                     help="port to listen on (default 8765; 0: any free port)")
    app.add_argument("--results", default="results",
                     help="folder the runs are written to and compared from (default "
                          "results)")
    app.set_defaults(func=app_command)
    val = sub.add_parser("validate", help="check a scenario file without running it")
    val.add_argument("scenario", help="scenario TOML file")
    val.set_defaults(func=validate)
    return parser


def app_command(args: argparse.Namespace) -> int:
    """Serve the planner's workbench (a local web app) until interrupted."""
    from loyaltylab.app.server import bind, serve, url

    results = Path(args.results)
    if results.exists() and not results.is_dir():
        raise InputError(f"--results: {results} is not a folder")
    check_writable(results, "--results", folder=True)
    sock = bind(args.host, args.port)
    where = ("only this computer can reach it" if sock.getsockname()[0] in ("127.0.0.1", "::1")
             else "other computers on the network can reach it too")
    print(f"loyaltylab: the workbench is at {url(sock)} (listening on {args.host}: {where}); "
          f"runs are written to {results}/. Ctrl-C stops it.", flush=True)
    serve(sock, results)
    return 0


def _version() -> str:
    """The installed version of loyaltylab (the package's own if not installed)."""
    try:
        return metadata.version("loyaltylab")
    except metadata.PackageNotFoundError:
        from loyaltylab import __version__

        return f"{__version__} (not installed)"


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit code (see ``EXIT_CODES``).

    Bad input (an :class:`~loyaltylab.errors.InputError`, which scenario, population
    file, transaction log and argument checks raise) is one line per problem and code 2;
    argparse reports bad options the same way. Any other exception is a bug: its
    traceback, a line saying how to report it, and code 70. SIGINT and SIGTERM raise
    KeyboardInterrupt (:mod:`loyaltylab.interrupts`): ``run``, ``sensitivity`` and
    ``optimise`` turn it into code 130 with how to resume; for the other commands
    ``python -m loyaltylab`` (the ``loyaltylab`` command) does.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    interrupts.install()  # again, for callers that did not come through __main__
    try:
        code = int(args.func(args))
    except InputError as exc:
        for line in exc.lines():
            print(f"loyaltylab: error: {line}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except Exception:
        traceback.print_exc()
        print(f"loyaltylab: internal error: this is a bug in loyaltylab {_version()}, not a "
              "problem with your input. Please report it to the loyaltylab maintainers with "
              "the command you ran, the traceback above and this version.", file=sys.stderr)
        return EXIT_BUG
    if code == EXIT_OK and interrupts.pending():
        # Swallowed where Python cannot raise it (a weakref callback) after the last
        # write: the command finished, but the user asked it to stop.
        print("loyaltylab: interrupted after the command had finished its work",
              file=sys.stderr)
        return EXIT_INTERRUPTED
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
