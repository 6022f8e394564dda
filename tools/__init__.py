"""Repository checks, runnable as scripts and importable by the tests."""
