"""Repository checks, runnable as scripts and importable by the tests.

Layer: the top. Command-line checks only; they may import devtools/ (the XQL library, the runner, the
simulator), and nothing in devtools/ may import them (tools/check_imports.py keeps it so).
"""
