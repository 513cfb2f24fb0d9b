"""The published JSON Schemas in schemas/events are the pydantic contracts the daemon validates with."""

from __future__ import annotations

import orjson

from correlator.formats.events import EVENT_SCHEMAS_DIR, json_schemas


def test_published_event_schemas_match_the_contracts():
    for name, schema in json_schemas().items():
        published = orjson.loads((EVENT_SCHEMAS_DIR / f"{name}.schema.json").read_bytes())
        assert published == schema, (
            f"schemas/events/{name}.schema.json is stale: run "
            "python -c 'from correlator.formats.events import write_json_schemas; write_json_schemas()'"
        )


def test_usage_metric_schema_requires_success_and_allows_unknown_keys():
    schema = json_schemas()["usage_metric"]
    assert schema["required"] == ["success"]
    assert schema.get("additionalProperties", True) is True
