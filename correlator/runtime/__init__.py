"""What runs: the daemon, backfill, their own logs, progress and the ops endpoints."""
