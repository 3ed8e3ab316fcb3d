"""Benchmarks; run them as scripts (see bench/README.md), never as part of the test suite."""
