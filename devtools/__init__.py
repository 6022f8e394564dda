"""Development tooling around the LivePerson pack: the simulator, the local runner, the demo.

Layered one way, bottom up (tools/check_imports.py fails on an arrow against it, or on a cycle):
- foundations, importing nothing else of ours: ``runtime`` (which runtime the integration is imported
  with, and ``load_integration``) and ``xql`` (our XQL library);
- ``simulator`` (imports only itself), then ``truth``, ``alerts``, ``probe`` and ``runner``, which may
  import the foundations, the simulator and one another without a cycle;
- the commands on top: ``demo`` and ``bench``, and ``runner``'s own ``main``.
Nothing here imports tools/: the checks there import this package, never the reverse.
"""
