"""From a validated event to a stored row: root cause, classification, redaction, row building and batching."""
