"""The rules file against its JSON Schema: in full with jsonschema here, and its key checks at load."""

from __future__ import annotations

import copy

import jsonschema
import orjson
import pytest

from correlator.processing.classify import RULES_PATH, RULES_SCHEMA_PATH, Classifier, RulesError


@pytest.fixture(scope="module")
def rules() -> dict:
    return orjson.loads(RULES_PATH.read_bytes())


@pytest.fixture(scope="module")
def schema() -> dict:
    return orjson.loads(RULES_SCHEMA_PATH.read_bytes())


def test_the_shipped_rules_file_is_valid_against_its_schema(rules: dict, schema: dict):
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.Draft202012Validator(schema).validate(rules)


@pytest.mark.parametrize(
    ("change", "refused"),
    [
        (lambda r: r["rules"][0].update(frame_pattern=[":run_tool$"]), "unknown ['frame_pattern']"),
        (lambda r: r["rules"].append({"id": "x", "tier": "message", "class": "timeout"}), "has no evidence"),
        (lambda r: r["rules"].append({"id": "x", "tier": "message", "class": "timeout", "patterns": ["t"],
                                      "frame_types": ["KeyError"]}), "frame_types without frame_patterns"),
        (lambda r: r.pop("precedence"), "missing ['precedence']"),
    ],
)  # fmt: skip
def test_a_rules_file_off_the_schema_is_refused_at_load_naming_what(rules: dict, schema: dict, change, refused: str):
    broken = copy.deepcopy(rules)
    change(broken)
    with pytest.raises(RulesError, match=refused.replace("[", r"\[").replace("]", r"\]")):
        Classifier(broken)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft202012Validator(schema).validate(broken)
