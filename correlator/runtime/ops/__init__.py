"""Operating the daemon: its Prometheus metrics and the HTTP endpoints probes and scrapers call."""
