"""Runs the simulator until interrupted: `python -m devtools.simulator --help`."""

from __future__ import annotations

import argparse
import signal
import sys
import threading

from devtools.simulator import FaultPlan, Simulator, SimulatorConfig


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m devtools.simulator",
        description="Serve LivePerson's Domain API, Sentinel token endpoint and Audit Trail over HTTPS on loopback.",
    )
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: any free port)")
    parser.add_argument("--days", type=float, default=3.0, help="days of seeded history (default 3)")
    parser.add_argument("--per-day", type=int, default=3000, help="records a day in the history (default 3000)")
    parser.add_argument("--live", type=float, default=0.0, help="live arrivals per second (default 0: none)")
    parser.add_argument("--fault-rate", type=float, default=0.0, help="share of requests that fail (default 0)")
    parser.add_argument("--seed", type=int, default=7, help="seed of the dataset and of the faults")
    parser.add_argument("--token-lifetime", type=float, default=3600.0, help="token lifetime in seconds")
    args = parser.parse_args(argv)

    config = SimulatorConfig(
        seed=args.seed,
        history_days=args.days,
        history_per_day=args.per_day,
        token_lifetime=args.token_lifetime,
        faults=FaultPlan(rate=args.fault_rate, seed=args.seed),
    )
    simulator = Simulator(config).start(args.port)
    if args.live:
        simulator.start_arrivals(per_second=args.live)
    print(f"LivePerson simulator on https://{simulator.host} with {len(simulator.store)} records")
    print(f"  account ID     {config.account_id}")
    print(f"  client ID      {config.client_id}")
    print(f"  client secret  {config.client_secret}  (the simulator's own throwaway credential)")
    print(f"  CA bundle      {simulator.ca_bundle}  (export REQUESTS_CA_BUNDLE to trust it)")
    stopped = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stopped.set())
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    stopped.wait()
    simulator.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
