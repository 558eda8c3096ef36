"""Development tooling: run from the repository, never installed with the service.

``python -m dev.clusters.<galera|standby|balancer>`` (from the repository's
root) starts a topology on this host for tests, benchmarks and trying it out;
see docs/scaling.md.
"""
