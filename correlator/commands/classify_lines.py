"""``correlator classify``: one input line (any accepted shape) → its explanation as a dict."""

from __future__ import annotations

from typing import Any

import orjson
from pydantic import ValidationError

from correlator.formats.decode import describe_validation_error
from correlator.formats.events import LogEvent, UsageMetric
from correlator.processing.classify import Classifier
from correlator.processing.rows import Explanation, explain_log, explain_metric


def classify_line(line: bytes, classifier: Classifier) -> dict[str, Any]:
    try:
        document = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        return {"error": f"not JSON: {exc}"}
    if not isinstance(document, dict):
        return {"error": f"expected a JSON object, got {type(document).__name__}"}
    try:
        if "success" in document:
            explanation = explain_metric(UsageMetric.model_validate(document), classifier)
        else:
            # A bare {"message"} or {"traceback"} is a question about a failure.
            document.setdefault("level", "error")
            explanation = explain_log(LogEvent.model_validate(document), classifier)
    except ValidationError as exc:
        return {"error": f"invalid fields: {describe_validation_error(exc)}"}
    return _as_dict(explanation, classifier)


def _as_dict(explanation: Explanation, classifier: Classifier) -> dict[str, Any]:
    label = explanation.label
    cause = explanation.root_cause
    return {
        "category": label.category or None,
        "error_class": label.error_class or None,
        "rule": label.rule or None,
        "rules_version": classifier.version,
        "root_cause_type": cause.type,
        "root_cause_message": cause.message,
        "chain": [{"type": link.type, "message": link.message} for link in explanation.chain],
    }
