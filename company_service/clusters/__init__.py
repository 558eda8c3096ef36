"""Clusters on one host, for tests, benchmarks and trying the topologies out.

Each module starts one topology on ports and in directories of its own and
tears it down again: ``galera`` (three MariaDB Galera nodes), ``standby`` (a
PostgreSQL primary and a hot standby), ``balancer`` (haproxy in front of
service processes). Each is also a command: ``python -m
company_service.clusters.<module> --help``. See docs/scaling.md.
"""
