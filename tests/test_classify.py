"""Labels for the failures the first version must get right, from real exception chains."""

from __future__ import annotations

import pytest

from correlator.emit import LLMChatError
from correlator.processing.classify import Classifier, RulesError
from correlator.processing.rootcause import ChainLink

WRAPPER = ChainLink("ValueError", "LLM chat interaction failed.")


@pytest.fixture(scope="module")
def classifier() -> Classifier:
    return Classifier.from_file()


@pytest.mark.parametrize(
    ("root", "expected"),
    [
        (ChainLink("openai.RateLimitError", "Error code: 429 - {'error': {'code': 'rate_limit_exceeded'}}"),
         "rate_limit"),
        (ChainLink("RateLimitError", "Error code: 429 - {'error': {'code': 'insufficient_quota'}}"), "quota_exceeded"),
        (ChainLink("httpx.ReadTimeout", ""), "timeout"),
        (ChainLink("APITimeoutError", "Request timed out."), "timeout"),
        (ChainLink("HTTPStatusError", "Server error '504 Gateway Timeout' for url 'https://api'"), "timeout"),
        (ChainLink("AuthenticationError", "Error code: 401 - {'error': {'code': 'invalid_api_key'}}"), "auth"),
        (ChainLink("json.decoder.JSONDecodeError", "Expecting value: line 1 column 1 (char 0)"), "invalid_json"),
        (ChainLink("JSONDecodeError", "Unterminated string starting at: line 1 column 12 (char 11)"), "invalid_json"),
        (ChainLink("ValidationError", "1 validation error for Answer\nconfidence\n  Field required"),
         "schema_mismatch"),
        # digits inside an id or a token count are not status codes
        (ChainLink("ValidationError", "2 validation errors for Call [id=4c2a429f5000]\n  tokens 5001"),
         "schema_mismatch"),
    ],
)  # fmt: skip
def test_root_cause_beneath_a_wrapper(classifier: Classifier, root: ChainLink, expected: str):
    label = classifier.classify_chain((root, WRAPPER))
    assert label.error_class == expected
    assert label.category == {"invalid_json": "parsing_error", "schema_mismatch": "parsing_error"}.get(
        expected, "api_error"
    )


def test_wrapper_alone_is_no_evidence(classifier: Classifier):
    assert classifier.classify_chain((WRAPPER,)).error_class == "unknown"
    assert classifier.classify_chain((ChainLink("", "An error occurred"),)).error_class == "unknown"


@pytest.mark.parametrize("wrapper", ["Unhandled exception in agent loop", "Error calling LLM", "Task failed"])
def test_a_wrapper_embedded_from_none_is_no_evidence_unless_it_names_a_cause(classifier: Classifier, wrapper: str):
    """``LLMChatError(ValueError(wrapper)) from None``: its text embeds a wrapper's words and nothing else."""
    try:
        raise LLMChatError(ValueError(wrapper)) from None
    except LLMChatError as exc:
        embedded = str(exc)
    assert classifier.is_wrapper_only(wrapper) and classifier.is_wrapper_only(embedded)
    assert not classifier.is_wrapper_only(f"{embedded} [root: RateLimitError: Error code: 429]")
    assert not classifier.is_wrapper_only(embedded.replace(wrapper, "TimeoutError: the call timed out"))


def test_truncation_that_broke_parsing_is_truncation(classifier: Classifier):
    root = ChainLink("JSONDecodeError", "Unterminated string starting at: line 1 column 9 (char 8)")
    label = classifier.classify_chain((root, WRAPPER), finish_reason="length")
    assert (label.category, label.error_class) == ("model_error", "truncation")


def test_metrics_labels_map_into_the_taxonomy(classifier: Classifier):
    assert classifier.classify_metric_label("timeout").error_class == "timeout"
    assert classifier.classify_metric_label("invalid_json").category == "parsing_error"
    assert classifier.classify_metric_label("unknown").error_class == "unknown"
    assert classifier.classify_metric_label("something_new").error_class == "unknown"


def test_every_decision_names_its_rule(classifier: Classifier):
    label = classifier.classify_chain((ChainLink("httpx.ConnectError", "[Errno 111] Connection refused"),))
    assert label.rule == "type.connection"
    assert classifier.version


def test_rules_naming_a_class_outside_the_taxonomy_are_refused():
    import orjson

    from correlator.processing.classify import RULES_PATH

    rules = orjson.loads(RULES_PATH.read_bytes())
    rules["rules"].append({"id": "bad", "tier": "message", "class": "made_up", "patterns": ["x"]})
    with pytest.raises(RulesError, match="made_up"):
        Classifier(rules)


def _weighing_rules() -> dict[str, object]:
    """A small rules file whose every rule names the evidence it stands for."""
    return {
        "version": "test",
        "taxonomy": {c: "api_error" for c in ("strong", "type_first", "text_second", "earlier", "later", "base",
                                               "qualified", "frame", "unknown")},
        "precedence": ["chain_message", "exception_type", "message"],
        "wrapper_messages": ["^wrapped$"],
        "embedded_cause": "^never (?P<cause>.+)$",
        "metric_labels": {},
        "finish_reasons": {},
        "status_patterns": [],
        "rules": [
            {"id": "strong", "tier": "chain_message", "class": "strong", "patterns": ["overflowed"]},
            {"id": "frame", "tier": "chain_message", "class": "frame", "frame_patterns": [":parse_tool_args$"]},
            {"id": "type", "tier": "exception_type", "class": "type_first", "types": ["Boom", "mod.Qualified"]},
            {"id": "text", "tier": "exception_type", "class": "text_second", "patterns": ["boom"]},
            {"id": "base", "tier": "message", "class": "base", "types": ["Qualified"]},
            {"id": "earlier", "tier": "message", "class": "earlier", "patterns": ["quiet"]},
            {"id": "later", "tier": "message", "class": "later", "patterns": ["quiet", "hush"]},
        ],
    }  # fmt: skip


@pytest.mark.parametrize(
    ("chain", "rule"),
    [
        # a stronger tier anywhere in the chain beats a weaker one at the root
        ((ChainLink("Boom", ""), ChainLink("X", "buffer overflowed")), "strong"),
        # within a tier the innermost link speaks first, whether by type or by text
        ((ChainLink("X", "boom"), ChainLink("Boom", "")), "text"),
        # within a link and tier, its type before its text
        ((ChainLink("Boom", "boom"),), "type"),
        # within a link, tier and kind of evidence, the earlier rule in the file
        ((ChainLink("X", "hush, quiet"),), "earlier"),
        ((ChainLink("X", "hush"),), "later"),
        # a qualified name's rule before its base name's
        ((ChainLink("mod.Qualified", ""),), "type"),
        ((ChainLink("other.Qualified", ""),), "base"),
        # a wrapper's text is no evidence; its type still is
        ((ChainLink("X", ""), ChainLink("Boom", "wrapped")), "type"),
        ((ChainLink("X", "quiet"), ChainLink("X", "wrapped")), "earlier"),
        # frames are evidence of their link
        ((ChainLink("X", "quiet"), ChainLink("X", "", ("app.py:parse_tool_args",))), "frame"),
        ((ChainLink("X", ""),), "no-evidence"),
    ],
)  # fmt: skip
def test_evidence_is_weighed_by_tier_then_link_then_kind_then_order(chain: tuple[ChainLink, ...], rule: str):
    assert Classifier(_weighing_rules()).classify_chain(chain).rule == rule
