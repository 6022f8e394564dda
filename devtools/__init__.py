"""Development tooling around the LivePerson pack: the simulator, the local runner, the demo."""
