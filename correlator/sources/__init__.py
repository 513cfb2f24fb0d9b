"""Where messages come in: Kafka topics (and, for backfill, files)."""
