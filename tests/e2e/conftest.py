"""Fixtures for end-to-end tests: the unchanged integration, the local runner and the simulator over HTTPS."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from devtools.runner import LocalRunner, simulator_params
from devtools.runtime import BASECLIENT_ENVIRONMENT
from devtools.simulator import Simulator, SimulatorConfig

# LivePerson's pauses (5, 10, 15 s) shrunk a thousandfold: the same policy, test-sized.
RETRY_SCALE = 0.001


@pytest.fixture
def simulator_factory() -> Iterator[Callable[..., Simulator]]:
    started: list[Simulator] = []

    def start(**config: Any) -> Simulator:
        simulator = Simulator(SimulatorConfig(**config)).start()
        started.append(simulator)
        return simulator

    yield start
    for simulator in started:
        simulator.stop()


@pytest.fixture
def simulator(simulator_factory: Callable[..., Simulator]) -> Simulator:
    return simulator_factory()


def make_runner(
    simulator: Simulator, env: dict[str, str | None] | None = None, budgets: Any = None, **params: Any
) -> LocalRunner:
    """A runner whose only trust anchor is the simulator's CA, and no proxy, unless told otherwise.

    `budgets` (the integration's TimeBudgets) reaches main() the way the runner passes it.
    """
    settings = simulator_params(simulator)
    settings.update(params)
    environment: dict[str, str | None] = dict.fromkeys(BASECLIENT_ENVIRONMENT)
    environment.update({"REQUESTS_CA_BUNDLE": simulator.ca_bundle, "NO_PROXY": None, "no_proxy": None})
    environment.update(env or {})
    return LocalRunner(settings, env=environment, retry_scale=RETRY_SCALE, budgets=budgets)
