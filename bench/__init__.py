"""Benchmarks of ebay-pipelines: throughput, API-call efficiency, Dagster overhead, memory, re-sync.

Run them with ``python -m bench`` (see ``bench/README.md``).
"""
