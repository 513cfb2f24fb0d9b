"""The learned fallback: asked only when no rule has evidence, silent below its confidence, its version stored."""

from __future__ import annotations

import hashlib

import orjson
import pytest

from correlator.formats.decode import decode
from correlator.formats.events import LogEvent
from correlator.processing.classify import RULES_PATH, Classifier, RulesError
from correlator.processing.rootcause import ChainLink
from correlator.processing.rows import explain_log
from tests.quality import HERE
from tests.train_fallback import MODEL_PATH, model_bytes, train, training_set

# A model's tool argument converted by the tool, logged with only the wrapper's text left: no rule has evidence.
UNRULED = (ChainLink("ValueError", "invalid literal for int() with base 10: 'four'"),)


def _rules(**fallback: object) -> dict:
    rules = orjson.loads(RULES_PATH.read_bytes())
    rules["learned_fallback"] = {**rules["learned_fallback"], **fallback}
    return rules


def test_a_chain_no_rule_explains_gets_the_models_class_with_its_version_and_confidence():
    without = orjson.loads(RULES_PATH.read_bytes())
    del without["learned_fallback"]
    assert Classifier(without).classify_chain(UNRULED).error_class == "unknown"
    label = Classifier.from_file().classify_chain(UNRULED)
    model = orjson.loads(MODEL_PATH.read_bytes())
    assert label.error_class == "tool_call_malformed"
    prefix = f"learned.{model['version']}@"
    assert label.rule.startswith(prefix)
    assert 0.6 <= float(label.rule.removeprefix(prefix)) <= 1.0


def test_below_its_confidence_the_fallback_stays_silent():
    assert Classifier(_rules(min_confidence=0.99)).classify_chain(UNRULED).rule == "no-evidence"


def test_the_fallback_never_overrides_rule_evidence():
    """A ValueError whose text a rule reads keeps the rule's label, whatever the model would say."""
    chain = (ChainLink("ValueError", "Expecting value: line 1 column 1 (char 0)"),)
    assert Classifier(_rules(min_confidence=0.0)).classify_chain(chain).rule == "message.invalid_json"


def test_a_wrapper_alone_gives_the_model_nothing_to_read():
    anything = Classifier(_rules(min_confidence=0.0))
    assert anything.classify_chain((ChainLink("ValueError", "LLM chat interaction failed."),)).rule == "no-evidence"
    line = orjson.dumps({"message": "An error occurred", "levelname": "ERROR"})
    event = decode(line, LogEvent, HERE)
    assert isinstance(event, LogEvent)
    assert explain_log(event, anything).label.error_class == "unknown"


def test_the_shipped_model_is_named_by_a_hash_of_its_weights():
    model = orjson.loads(MODEL_PATH.read_bytes())
    body = orjson.dumps({k: v for k, v in model.items() if k != "version"}, option=orjson.OPT_SORT_KEYS)
    assert model["version"] == "lr-" + hashlib.sha256(body).hexdigest()[:10]


def test_a_missing_model_file_is_refused_at_load(tmp_path):
    (tmp_path / "rules.json").write_bytes(orjson.dumps(_rules(model="absent.json")))
    with pytest.raises(RulesError, match="learned_fallback"):
        Classifier.from_file(tmp_path / "rules.json")


def test_retraining_the_corpus_gives_the_shipped_model_byte_for_byte():
    """The fit and the corpus are deterministic: the shipped file is exactly what its corpus trains."""
    assert model_bytes(train(training_set(Classifier.from_file()))) == MODEL_PATH.read_bytes()
