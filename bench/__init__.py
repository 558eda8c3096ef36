"""make bench: the service against a bare-Core baseline (see bench/run.py)."""
