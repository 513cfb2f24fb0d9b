"""Bytes to validated events: the event contracts (pydantic) and their decoding."""
