"""A LivePerson simulator (Domain API, Sentinel, Audit Trail) over HTTPS on loopback."""

from devtools.simulator.dataset import AuditStore, LiveArrivals
from devtools.simulator.readings import Reading
from devtools.simulator.server import FaultPlan, Simulator, SimulatorConfig

__all__ = ["AuditStore", "FaultPlan", "LiveArrivals", "Reading", "Simulator", "SimulatorConfig"]
