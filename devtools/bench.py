"""`make bench`: API calls, client overhead, scaling and state size, against the simulator on loopback.

Every figure comes from runs of the unchanged integration. Timed runs talk to a simulator in a
separate process (so the server's work is not on the client's clock) and are repeated: medians
are reported with the spread (min-max). Results go to bench-results/results.json, the scaling
plot to bench-results/scaling.png.
"""

from __future__ import annotations

import gc
import json
import math
import multiprocessing
import os
import re
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import requests

from devtools.runner import LocalRunner, RunResult, params_for, runner_for
from devtools.runtime import load_integration
from devtools.simulator import Reading, Simulator, SimulatorConfig
from devtools.simulator.dataset import AuditStore

ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = ROOT / "bench-results"
PAGE = 500
REPETITIONS = 7
SCALING_SIZES = (1_000, 10_000, 50_000, 100_000)
SCALING_REPETITIONS = 3

# ------------------------------------------------------------------------------- data


LATE_COMMIT = timedelta(minutes=5)  # the integration's default L: every run re-reads the last L


def collection_window(now: datetime, settled: bool = True) -> tuple[datetime, datetime]:
    """Up to 50 minutes before now, never before today's midnight (one UTC day: one query day).

    `settled`: the records end a little more than L before now, so the runs after a backlog show the
    steady state; otherwise they end 30 s before now, and the next runs re-read the last L of them.
    """
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    start = max(midnight + timedelta(seconds=1), now - timedelta(minutes=50)).replace(microsecond=0)
    end = now - (LATE_COMMIT + timedelta(seconds=30) if settled else timedelta(seconds=30))
    return start, end


def seed_records(store: AuditStore, count: int, start: datetime, end: datetime) -> None:
    """`count` records between start and end, in groups of 1 to 5 sharing an instant."""
    span = max(1.0, (end - start).total_seconds())
    added = 0
    step = 0
    while added < count:
        moment = start + timedelta(seconds=span * step / max(1, count // 3))
        added += len(store.add_random(min(moment, end), min(count - added, 1 + step % 5), twin_rate=0.02))
        step += 1


def _serve(count: int, ready: Any, stop: Any) -> None:
    simulator = Simulator(SimulatorConfig(seed=21))
    start, end = collection_window(datetime.now(UTC))
    seed_records(simulator.store, count, start, end)
    simulator.start()
    ready.put((simulator.host, simulator.ca_bundle, len(simulator.store), start.isoformat()))
    stop.wait()
    simulator.stop()


@contextmanager
def server_process(count: int) -> Iterator[tuple[str, str, int, datetime]]:
    """A simulator holding `count` records, in its own process."""
    context = multiprocessing.get_context("spawn")
    ready, stop = context.Queue(), context.Event()
    process = context.Process(target=_serve, args=(count, ready, stop), daemon=True)
    process.start()
    host, bundle, total, start = ready.get(timeout=300)
    try:
        yield host, bundle, total, datetime.fromisoformat(start)
    finally:
        stop.set()
        process.join(timeout=10)


# ------------------------------------------------------------------------------- 1 and 4: calls and state


def state_sizes(runner: LocalRunner) -> dict[str, int]:
    return {
        "last_run_bytes": len(json.dumps(runner.last_run, separators=(",", ":"))),
        "context_bytes": len(json.dumps(runner.context, separators=(",", ":"))),
    }


def calls_of(result: Any) -> dict[str, int]:
    return {name: result.calls[name] for name in ("audit", "token", "domain")}


def backlog_runner(simulator: Simulator, records: int, max_fetch: int, settled: bool = True) -> LocalRunner:
    """A runner whose collection starts where `records` records, already waiting, begin."""
    start, end = collection_window(datetime.now(UTC), settled)
    seed_records(simulator.store, records, start, end)
    runner = runner_for(simulator, max_fetch)
    runner.start_fetch_at(start)
    return runner


def api_call_scenarios() -> dict[str, Any]:
    """Call counts per run against the floor ceil(N/500), and the state left behind."""
    results: dict[str, Any] = {}
    now = datetime.now(UTC)

    # An account with a day of history (so the first run sees the server's full page), then a few records a run.
    with Simulator(SimulatorConfig(seed=31, history_days=1)) as simulator:
        runner = runner_for(simulator, 5_000)
        runner.start_fetch_at(now - timedelta(minutes=1))
        runs = []
        for _ in range(10):
            added = len(simulator.store.add_random(datetime.now(UTC), 3))
            result = runner.run("fetch-events")
            runs.append({"new": added, "pushed": len(result.pushed), **calls_of(result), **state_sizes(runner)})
        results["steady_10_runs"] = runs

    with Simulator(SimulatorConfig(seed=32)) as simulator:
        runner = backlog_runner(simulator, 20_000, max_fetch=20_000)
        result = runner.run("fetch-events")
        results["one_run_20000"] = {
            "pushed": len(result.pushed),
            "floor": math.ceil(20_000 / PAGE),
            **calls_of(result),
            **state_sizes(runner),
        }

    with Simulator(SimulatorConfig(seed=33)) as simulator:
        runner = backlog_runner(simulator, 50_000, max_fetch=100_000)
        drained = runner.run("fetch-events")
        simulator.store.add_random(datetime.now(UTC), 5)
        simulator.query_log.clear()
        result = runner.run("fetch-events")
        results["day_holds_50000"] = {
            "first_run_pushed": len(drained.pushed),
            "next_run_pushed": len(result.pushed),
            "next_run_first_offset": simulator.query_log[0]["offset"] if simulator.query_log else None,
            **calls_of(result),
            **state_sizes(runner),
        }

    with Simulator(SimulatorConfig(seed=34)) as simulator:
        second = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=2)
        simulator.store.add_random(second, 5_000)
        runner = runner_for(simulator, 5_000)
        runner.start_fetch_at(second - timedelta(seconds=1))
        first = runner.run("fetch-events")
        simulator.store.add_random(datetime.now(UTC), 5)
        second_run = runner.run("fetch-events")
        results["5000_in_one_second"] = {
            "pushed": len(first.pushed) + len(second_run.pushed),
            **calls_of(second_run),
            **state_sizes(runner),
        }
    return results


# ------------------------------------------------------------------------------- 1b: undocumented readings

CAP = 100
DAY_CHANGE_START = datetime(2026, 3, 6, 20, 0, tzinfo=UTC)  # before a UTC midnight and a US/Eastern one


SEARCH_LOG = re.compile(r"\((\d+) to find the resume point\)")


def search_reads(result: RunResult) -> int:
    """Reads a run made to find its resume point, as its fetch log line counts them."""
    for _level, line in result.logs:
        found = SEARCH_LOG.search(line)
        if found:
            return int(found.group(1))
    return 0


def search_bound(records: int, page: int) -> int:
    """The issue's bound for finding the resume point: ceil(log2(N/K)) + 2 (at least 2)."""
    return math.ceil(math.log2(max(1.0, records / page))) + 2


def first_run_scenario(cap: int | None, total_count: str) -> dict[str, Any]:
    """A new instance's first run on an account whose window already holds a day of records, three of them new."""
    with Simulator(SimulatorConfig(seed=35, reading=Reading(page_cap=cap, total_count=total_count))) as simulator:
        now = datetime.now(UTC)
        for index in range(20_000):
            simulator.store.add_random(now - timedelta(hours=13) + timedelta(seconds=2.3 * index), 1)
        simulator.store.add_random(now - timedelta(seconds=20), 3)
        runner = runner_for(simulator, 5_000)
        result = runner.run("fetch-events")
        return {
            "records": len(simulator.store),
            "pushed": len(result.pushed),
            "audit": result.calls["audit"],
            "search_reads": search_reads(result),
            "bound": search_bound(len(simulator.store), cap or PAGE),
        }


def busy_last_l_scenario(cap: int | None) -> dict[str, Any]:
    """What L costs: an account with 2,000 records in the last L, a run a minute with 400 new ones."""
    with Simulator(SimulatorConfig(seed=36, reading=Reading(page_cap=cap))) as simulator:
        now = datetime.now(UTC)
        for index in range(2_000):
            simulator.store.add_random(now - LATE_COMMIT + timedelta(seconds=0.15 * index), 1)
        runner = runner_for(simulator, 5_000)
        runner.start_fetch_at(now - LATE_COMMIT)
        runner.run("fetch-events")
        simulator.store.add_random(datetime.now(UTC), 400)
        result = runner.run("fetch-events")
        return {"pushed": len(result.pushed), "audit": result.calls["audit"], **state_sizes(runner)}


def capped_server_scenario() -> dict[str, Any]:
    """A server that returns at most 100 records a call: a 20,000-record backlog, then steady runs."""
    with Simulator(SimulatorConfig(seed=41, reading=Reading(page_cap=CAP))) as simulator:
        runner = backlog_runner(simulator, 20_000, max_fetch=20_000)
        backlog = runner.run("fetch-events")
        searched = search_reads(backlog)
        steady = []
        for _ in range(10):
            simulator.store.add_random(datetime.now(UTC), 3)
            result = runner.run("fetch-events")
            steady.append({"new": len(result.pushed), **calls_of(result), **state_sizes(runner)})
    return {
        "backlog": {
            "pushed": len(backlog.pushed),
            "floor": math.ceil(20_000 / CAP),
            "search_reads": searched,
            **calls_of(backlog),
        },
        "steady": steady,
    }


def window_records(simulator: Simulator, window: list[str]) -> int:
    """How many records the answer of `window` holds (the N of the search bound), as the simulator selects."""
    from devtools.simulator.readings import date_range, zone_named

    reading = simulator.config.reading
    zone = zone_named(reading.filter_zone or "UTC")
    arguments = {"fromDate": window[0], "toDate": window[1]}
    low, high = date_range(simulator.store.snapshot(), arguments, zone, reading.to_date_inclusive)
    return high - low


def day_change_scenario(reading: Reading, records: int = 50_000) -> dict[str, Any]:
    """Runs every 30 minutes for 60 hours across UTC midnights and the server's, on a time-machine clock."""
    import time_machine

    with Simulator(SimulatorConfig(seed=42, reading=reading)) as simulator:
        span = timedelta(hours=36).total_seconds()
        for index in range(records):
            moment = DAY_CHANGE_START - timedelta(hours=36) + timedelta(seconds=span * index / records)
            simulator.store.add_random(moment, 1)
        runner = runner_for(simulator, 100_000)
        runs: list[dict[str, Any]] = []
        with time_machine.travel(DAY_CHANGE_START, tick=False) as traveller:
            runner.start_fetch_at(DAY_CHANGE_START - timedelta(hours=2))
            now = DAY_CHANGE_START
            previous_window = None
            while now < DAY_CHANGE_START + timedelta(hours=60):
                simulator.store.add_random(now - timedelta(minutes=1), 3)
                result: RunResult = runner.run("fetch-events")
                window = (result.last_run or {}).get("window")
                in_window = window_records(simulator, window) if window else 0
                runs.append(
                    {
                        "at": now.isoformat(),
                        "audit": result.calls["audit"],
                        "search_reads": search_reads(result),
                        "window_records": in_window,
                        "window": window,
                        "moved": previous_window is not None and window != previous_window,
                        "pushed": len(result.pushed),
                    }
                )
                previous_window = window
                now += timedelta(minutes=30)
                traveller.move_to(now)
        in_window = len(simulator.store)
    return {"reading": reading.describe(), "records": in_window, "runs": runs}


# ------------------------------------------------------------------------------- 2 and 3: overhead and scaling


def integration_fetch(host: str, bundle: str, start: datetime, limit: int) -> Callable[[], int]:
    """One fetch-events read (no push) by the integration, on a fresh client as each platform run has.

    The page size is known (a steady collector has learned it) and the domain and token are asked
    for afresh, as the bare loop does.
    """
    integration, _demisto = load_integration()

    def run() -> int:
        os.environ["REQUESTS_CA_BUNDLE"] = bundle
        settings = integration.Settings.from_params(params_for(host, SimulatorConfig(), limit))
        client = integration.Client(settings, use_cache=False)
        deadline = integration.NO_DEADLINE
        rules = integration.ReadRules(limit=limit, now=datetime.now(UTC))
        source = integration.AuditQueries(client, deadline, integration.DEFAULT_DIALECT)
        outcome = integration.read_audit_trail(source, integration.Cursor.starting_at(start), rules, deadline, PAGE)
        return len(integration.xsiam_events(outcome.events, outcome.event_times))

    return run


def baseline_fetch(host: str, bundle: str, start: datetime, limit: int) -> Callable[[], int]:
    """The cheapest client: requests and json paging the same query, and nothing else."""
    fields = (
        "accountId objectType objectName actionType element oldValue newValue changeDate originator "
        "originatorLoginName originatorUserId originatorUserAgent originatorAuthType originatorIsLpa"
    )

    def run() -> int:
        session = requests.Session()
        session.verify = bundle
        config = SimulatorConfig()  # the server process runs with the default account and credentials
        account = config.account_id
        form = {
            "grant_type": "client_credentials",
            "client_id": config.client_id,
            "client_secret": config.client_secret,
        }
        token = session.post(f"https://{host}/sentinel/api/v2/account/{account}/app/token", data=form).json()
        lookup = f"https://{host}/api/account/{account}/service/accountConfigReadOnly/baseURI.json?version=1.0"
        domain = session.get(lookup).json()["baseURI"]
        day = start.date()
        records: list[dict[str, Any]] = []
        offset = 0
        while len(records) < limit:
            query = (
                f'{{auditData(fromDate: "{day}", toDate: "{day + timedelta(days=1)}", first: {PAGE}, offset: {offset}, '
                'orderBy: ["changeTimestamp"], orderDirection: ["ASC"], timezone: "UTC", language: "en-US", '
                f"lpa: true, automaticUpdates: true) {{{fields}}}}}"
            )
            page = session.post(
                f"https://{domain}/api/account/{account}/configuration/metadata/audit",
                json={"query": query},
                headers={"Authorization": f"Bearer {token['access_token']}"},
            ).json()["data"]["auditData"]
            records.extend(page)
            offset += len(page)
            if len(page) < PAGE:
                break
        return len(records)

    return run


def measure(run: Callable[[], int]) -> dict[str, float]:
    gc.collect()  # each run starts with the previous run's garbage gone, whichever client it was
    wall, cpu = time.perf_counter(), time.thread_time()
    count = run()
    return {"records": count, "wall_s": time.perf_counter() - wall, "cpu_s": time.thread_time() - cpu}


def peak_memory(run: Callable[[], int]) -> tuple[int, int]:
    tracemalloc.start()
    try:
        count = run()
        return count, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def summary(values: list[float]) -> dict[str, float]:
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def overhead_scenario() -> dict[str, Any]:
    with server_process(100_000) as (host, bundle, total, start):
        integration = integration_fetch(host, bundle, start, 100_000)
        baseline = baseline_fetch(host, bundle, start, 100_000)
        integration(), baseline()  # warm both paths up once
        runs: dict[str, list[dict[str, float]]] = {"integration": [], "baseline": []}
        for _ in range(REPETITIONS):
            runs["integration"].append(measure(integration))
            runs["baseline"].append(measure(baseline))
    result: dict[str, Any] = {"records_on_server": total, "repetitions": REPETITIONS}
    for name, samples in runs.items():
        per_record = [sample["cpu_s"] / sample["records"] * 1e6 for sample in samples]
        result[name] = {
            "records": samples[0]["records"],
            "cpu_us_per_record": summary(per_record),
            "wall_s": summary([sample["wall_s"] for sample in samples]),
        }
    result["ratio"] = (
        result["integration"]["cpu_us_per_record"]["median"] / result["baseline"]["cpu_us_per_record"]["median"]
    )
    return result


def scaling_scenario() -> list[dict[str, Any]]:
    rows = []
    for size in SCALING_SIZES:
        with server_process(size) as (host, bundle, _total, start):
            run = integration_fetch(host, bundle, start, size)
            run()
            samples = [measure(run) for _ in range(SCALING_REPETITIONS)]
            count, peak = peak_memory(run)
        rows.append(
            {
                "records": size,
                "fetched": count,
                "wall_s": summary([sample["wall_s"] for sample in samples]),
                "cpu_s": summary([sample["cpu_s"] for sample in samples]),
                "peak_bytes": peak,
                "peak_bytes_per_record": peak / size,
            }
        )
    return rows


# ------------------------------------------------------------------------------- report


def plot(rows: list[dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = [row["records"] for row in rows]
    figure, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    left.plot(sizes, [row["wall_s"]["median"] for row in rows], "o-", label="wall (median)")
    left.plot(sizes, [row["cpu_s"]["median"] for row in rows], "s-", label="client CPU (median)")
    left.set(title="Fetch time", xlabel="records fetched", ylabel="seconds")
    left.legend()
    right.plot(sizes, [row["peak_bytes"] / 2**20 for row in rows], "o-", color="tab:red")
    right.set(title="Peak Python memory (tracemalloc)", xlabel="records fetched", ylabel="MiB")
    figure.tight_layout()
    figure.savefig(path, dpi=100)


def call_row(label: str, records: Any, floor: int, row: dict[str, Any]) -> str:
    return (
        f"| {label} | {records} | {row['audit']} | {floor} | {row['token']} | {row['domain']} "
        f"| {row['last_run_bytes']} | {row['context_bytes']} |"
    )


def readings_report(readings: dict[str, Any]) -> list[str]:
    capped = readings["capped"]
    backlog, steady = capped["backlog"], capped["steady"]
    lines = [
        "",
        f"## 1b. Servers that read the undocumented questions otherwise (cap {CAP}: floor ceil(N/{CAP}))",
        "",
        "| scenario | records | audit calls | of which to find the resume point | floor |",
        "|---|---|---|---|---|",
        f"| cap {CAP}, one run of 20,000 | {backlog['pushed']} | {backlog['audit']} | {backlog['search_reads']} "
        f"| {backlog['floor']} |",
        f"| cap {CAP}, steady runs 1-10 (3 new each) | {'/'.join(str(run['new']) for run in steady)} "
        f"| {'/'.join(str(run['audit']) for run in steady)} | 0 | 1 |",
    ]
    for name, scenario in readings["day_change"].items():
        runs = scenario["runs"]
        moves = [run for run in runs[1:] if run["moved"] and run["search_reads"]]
        widened = [run for run in runs[1:] if run["moved"] and not run["search_reads"]]
        steady_runs = [run for run in runs[1:] if not run["moved"]]
        lines.append(
            f"| {name}: {len(runs)} runs over 60 h across UTC and server midnights "
            f"| {sum(run['pushed'] for run in runs)} "
            f"| steady max {max(run['audit'] for run in steady_runs)}; window widened {len(widened)}x at "
            f"{max((run['audit'] for run in widened), default=0)} call(s); moved {len(moves)}x at "
            f"{'/'.join(str(run['audit']) for run in moves) or '-'} call(s) "
            f"| {'/'.join(str(run['search_reads']) for run in moves) or '-'} | 1 |"
        )
    return lines


def search_report(results: dict[str, Any]) -> list[str]:
    """The first run of a new instance and each window move, against ceil(log2(N/K)) + 2."""
    lines = [
        "",
        "## 1c. Finding where to resume: audit calls against ceil(log2(N/K)) + 2 (N records in the window)",
        "",
        "| scenario | K | N | audit calls (of which the search) | bound | within |",
        "|---|---|---|---|---|---|",
    ]
    for label, row in results["search"]["first_run"].items():
        lines.append(
            f"| first run of a new instance, {label} | {row['k']} | {row['records']:,} | {row['audit']} "
            f"({row['search_reads']}) | {row['bound']} | {'yes' if row['audit'] <= row['bound'] else 'NO'} |"
        )
    for name, scenario in results["readings"]["day_change"].items():
        page = CAP if "cap" in name else PAGE
        for run in scenario["runs"][1:]:
            if run["moved"] and run["search_reads"]:
                bound = search_bound(run["window_records"], page)
                lines.append(
                    f"| window move at {run['at'][:16]}, {name} | {page} | {run['window_records']:,} "
                    f"| {run['audit']} ({run['search_reads']}) | {bound} "
                    f"| {'yes' if run['search_reads'] <= bound else 'NO'} |"
                )
    late = results["late_cost"]
    lines += [
        "",
        f"## 1d. What L costs: 2,000 records in the last L ({LATE_COMMIT}), then a run with 400 new ones",
        "",
        "| K | pushed | audit calls | ceil((2,000 + 400)/K) | lastRun bytes |",
        "|---|---|---|---|---|",
    ]
    for page, row in late.items():
        lines.append(
            f"| {page} | {row['pushed']} | {row['audit']} | {math.ceil(2400 / int(page))} | {row['last_run_bytes']} |"
        )
    return lines


def report(results: dict[str, Any]) -> str:
    calls = results["api_calls"]
    first, *rest = calls["steady_10_runs"]
    worst = {
        key: max(run[key] for run in rest) for key in ("audit", "token", "domain", "last_run_bytes", "context_bytes")
    }
    held, big, burst = calls["day_holds_50000"], calls["one_run_20000"], calls["5000_in_one_second"]
    lines = [
        "## 1. API calls per run (floor: ceil(N/500) audit calls; N/500 pages, plus the empty one ending a full page)",
        "",
        "| scenario | records | audit calls | floor | token calls | domain calls | lastRun bytes | context bytes |",
        "|---|---|---|---|---|---|---|---|",
        call_row("steady, run 1 of 10", first["pushed"], 1, first),
        call_row("steady, runs 2-10 (worst)", "/".join(str(run["pushed"]) for run in rest), 1, worst),
        call_row("one run of 20,000", big["pushed"], big["floor"], big),
        call_row(
            f"next run, day holds 50,000 (reads from offset {held['next_run_first_offset']})",
            held["next_run_pushed"],
            1,
            held,
        ),
        call_row("5,000 records in one second, then 5 more", burst["pushed"], 1, burst),
    ]
    lines += readings_report(results["readings"])
    lines += search_report(results)
    over = results["overhead"]
    heading = f"## 2. Client overhead, {over['integration']['records']:,} records"
    lines += [
        "",
        f"{heading} ({over['repetitions']} runs each, median [min-max])",
        "",
    ]
    lines.append("| client | CPU µs per record | wall seconds |")
    lines.append("|---|---|---|")
    for name in ("integration", "baseline"):
        cpu, wall = over[name]["cpu_us_per_record"], over[name]["wall_s"]
        lines.append(
            f"| {name} | {cpu['median']:.1f} [{cpu['min']:.1f}-{cpu['max']:.1f}] "
            f"| {wall['median']:.2f} [{wall['min']:.2f}-{wall['max']:.2f}] |"
        )
    lines.append(f"| **ratio** | **{over['ratio']:.2f}x** (target at most 1.3x) | |")
    lines += ["", f"## 3. Scaling ({SCALING_REPETITIONS} runs each, median [min-max]; memory from one traced run)", ""]
    lines.append(
        "| records | wall seconds | client CPU seconds | µs CPU per record | peak MiB | peak bytes per record |"
    )
    lines.append("|---|---|---|---|---|---|")
    for row in results["scaling"]:
        wall, cpu = row["wall_s"], row["cpu_s"]
        lines.append(
            f"| {row['records']:,} | {wall['median']:.2f} [{wall['min']:.2f}-{wall['max']:.2f}] "
            f"| {cpu['median']:.2f} [{cpu['min']:.2f}-{cpu['max']:.2f}] | {cpu['median'] / row['records'] * 1e6:.1f} "
            f"| {row['peak_bytes'] / 2**20:.1f} | {row['peak_bytes_per_record']:.0f} |"
        )
    return "\n".join(lines)


def main() -> int:
    started = time.perf_counter()
    RESULTS_DIR.mkdir(exist_ok=True)
    results: dict[str, Any] = {"when": datetime.now(UTC).isoformat(), "python": sys.version.split()[0]}
    print("[bench] 1/3 API calls and state size ...", flush=True)
    results["api_calls"] = api_call_scenarios()
    print("[bench] 1b/3 a server capped at 100 a call, and day filters in US/Eastern ...", flush=True)
    results["readings"] = {
        "capped": capped_server_scenario(),
        "day_change": {
            "UTC filters": day_change_scenario(Reading()),
            "US/Eastern filters, toDate exclusive": day_change_scenario(
                Reading(filter_zone="US/Eastern", to_date_inclusive=False)
            ),
            "cap 100 + US/Eastern + exclusive": day_change_scenario(
                Reading(page_cap=CAP, filter_zone="US/Eastern", to_date_inclusive=False)
            ),
        },
    }
    print("[bench] 1c/3 the first run of a new instance, and what L costs ...", flush=True)
    results["search"] = {
        "first_run": {
            f"{'pages of 500' if cap is None else f'cap {cap}'}, X-Total-Count {meaning}": {
                "k": cap or PAGE,
                **first_run_scenario(cap, meaning),
            }
            for cap in (None, CAP)
            for meaning in ("total", "page")
        }
    }
    results["late_cost"] = {str(cap or PAGE): busy_last_l_scenario(cap) for cap in (None, CAP)}
    print("[bench] 2/3 client overhead, 100,000 records ...", flush=True)
    results["overhead"] = overhead_scenario()
    print("[bench] 3/3 scaling ...", flush=True)
    results["scaling"] = scaling_scenario()
    results["seconds"] = time.perf_counter() - started
    (RESULTS_DIR / "results.json").write_text(json.dumps(results, indent=2), encoding="utf-8")
    plot(results["scaling"], RESULTS_DIR / "scaling.png")
    print()
    print(report(results))
    print(f"\n[bench] {results['seconds']:.0f} s; figures in {RESULTS_DIR / 'results.json'}")
    print(f"[bench] plot in {RESULTS_DIR / 'scaling.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
