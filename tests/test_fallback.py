"""The learned fallback: asked only when no rule has evidence, silent below its confidence, its version stored."""

from __future__ import annotations

import hashlib

import orjson
import pytest

from correlator.formats.decode import decode
from correlator.formats.events import LogEvent
from correlator.processing.classify import RULES_PATH, Classifier, RulesError
from correlator.processing.fallback import KINDS, LearnedFallback, chain_features
from correlator.processing.rootcause import ChainLink
from correlator.processing.rows import explain_log
from tests.quality import HERE
from tests.train_fallback import (
    MODEL_PATH,
    WAVES,
    Example,
    cross_validate,
    model_bytes,
    train,
    training_group,
    training_set,
    wrapper_negatives,
)

# Stored audio samples of a torn length, in an audio reader's own words: no rule has evidence (array's and numpy's
# "not a multiple of item size" is a rule's since rules 2026.12.03-10).
UNRULED = (ChainLink("ValueError", "bytes length not a multiple of frame size", ("/srv/app/audio.py:read_pcm",)),)


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
    assert label.error_class == "corrupted_data"
    prefix = f"learned.{model['version']}@"
    assert label.rule.startswith(prefix)
    assert 0.7 <= float(label.rule.removeprefix(prefix)) <= 1.0


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


# A tool's argument conversion failing in the application's own tool module, under a library frame.
FRAMED = ChainLink(
    "JSONDecodeError",
    "Expecting property name enclosed in double quotes, could not parse",
    ("/usr/lib/python3.11/json/decoder.py:raw_decode", "/srv/app/tool_dispatch.py:call_tool"),
    ("", "return json.loads(tool_call.function.arguments)"),
)


def test_each_feature_kind_reads_its_part_of_the_chain():
    def features(*kinds: str) -> set[str]:
        return set(chain_features((FRAMED,), Classifier.from_file().is_wrapper_only, kinds))

    assert features("type") == {"type:jsondecodeerror"}
    assert features("typeword") == {"typeword:json", "typeword:decode", "typeword:error"}
    assert "content:quotes" in features("content") and "content:could" not in features("content")  # a function word
    assert features("frame") == {"frame:call", "frame:tool"}
    assert features("source") == {"source:return", "source:json", "source:loads", "source:tool", "source:call",
                                  "source:function", "source:arguments"}  # fmt: skip
    assert features("libframe") == {"libframe:raw", "libframe:decode"}
    assert features(*KINDS) == set().union(*(features(kind) for kind in KINDS))


def test_a_wrapper_alone_has_no_features_of_any_kind():
    """Its type is kept, but with no words of a text or of an in-app function there is no guess."""
    wrapper = ChainLink("ValueError", "LLM chat interaction failed.", ("/usr/lib/python3.11/asyncio/tasks.py:run",))
    assert chain_features((wrapper,), Classifier.from_file().is_wrapper_only, KINDS) == []


def test_a_model_reads_only_the_kinds_it_names():
    weights = {"frame:tool": [0.0, 3.0], "source:loads": [5.0, 0.0]}
    model = {"version": "lr-test", "classes": ["connection", "timeout"], "bias": [0.0, 0.0],
             "features": ["type", "frame"], "weights": weights}  # fmt: skip
    fallback = LearnedFallback(model, 0.6)
    guess = fallback.guess(chain_features((FRAMED,), Classifier.from_file().is_wrapper_only, fallback.kinds))
    assert guess is not None and guess.error_class == "timeout"  # the source weight is never read
    with pytest.raises(ValueError, match="unknown feature kinds"):
        LearnedFallback({**model, "features": ["type", "colour"]}, 0.6)


def test_wrapper_negatives_are_unknown_and_read_the_wrappers_words_the_rules_leave():
    """A wrapper text the rules do not take for a wrapper's still trains towards ``unknown``."""
    classifier = Classifier.from_file()
    negatives = wrapper_negatives(classifier, ["Unhandled exception in agent loop"])
    assert {n.expected for n in negatives} == {"unknown"} and {n.group for n in negatives} == {"negative"}
    assert all("frame:" + n.case.split(":")[1].split("_")[0] in n.features for n in negatives)
    assert any("type:runtimeerror" in n.features for n in negatives)


def test_cross_validation_reports_the_top_confidence_on_wrapper_lines_it_did_not_train_on():
    examples = [_example(wave, "timeout", "timeout", "type:valueerror", "word:deadline") for wave in WAVES]
    wrappers = [_example("wrapper", "unknown", "unknown", "type:valueerror")]
    plain = cross_validate(examples, wrappers, WAVES, ["type", "word"], 1, 1e-3, [0.7])
    negatives = [_example("negative", "unknown", "unknown", "type:valueerror", "word:failed")] * len(WAVES)
    trained = cross_validate(examples, wrappers, WAVES, ["type", "word"], 1, 1e-3, [0.7], negatives)
    assert plain["wrapper_only_top_confidence"] > 0.9  # a ValueError was only ever a timeout
    assert trained["wrapper_only_top_confidence"] < 0.5  # the wrapper line is now read as unknown
    assert trained["negatives"] == len(WAVES)


def _example(group: str, expected: str, by_rules: str, *features: str) -> Example:
    return Example(f"{group}.{expected}.{by_rules}", group, expected, by_rules, by_rules == "unknown", features)


def test_cross_validation_holds_each_wave_out_and_never_lets_the_model_override_the_rules():
    """A wave's misses are guessed from the other waves only; a case the rules got right stays right."""
    examples = [
        *(_example(wave, "timeout", "timeout", "type:timeouterror", "word:deadline") for wave in WAVES),
        *(_example(wave, "rate_limit", "rate_limit", "type:ratelimit", "word:slow") for wave in WAVES),
        _example("wave6", "timeout", "unknown", "type:wrapped", "word:deadline"),
        _example("wave5", "rate_limit", "timeout", "type:ratelimit", "word:slow"),
    ]
    wrappers = [_example("wrapper", "unknown", "unknown")]
    report = cross_validate(examples, wrappers, WAVES, ["type", "word"], 2, 1e-3, [0.3])["min_confidence 0.3"]
    assert report["by_wave"]["wave6"]["fallback_correct"] == 1
    assert report["by_wave"]["wave6"]["end_to_end"] == 1.0
    assert report["by_wave"]["wave5"]["fallback_answers"] == 0  # the rules had evidence, though wrong
    assert report["pooled"]["rules_right_made_wrong"] == 0
    assert report["wrapper_only_answered"] == 0
    assert report["by_wave"]["wave6"]["fallback_alone"]["correct"] == 3  # its timeout and rate limit, and its miss
    assert report["by_wave"]["wave6"]["wrapper_only_answered"] == 0


def test_cross_validation_holds_out_only_the_waves_it_is_given():
    examples = [
        *(_example(wave, "timeout", "timeout", "type:timeouterror", "word:deadline") for wave in WAVES),
        _example("wave6", "timeout", "unknown", "type:wrapped", "word:deadline"),
    ]
    report = cross_validate(examples, [], ["earlier", "wave3"], ["type", "word"], 1, 1e-3, [0.3])
    assert set(report["min_confidence 0.3"]["by_wave"]) == {"earlier", "wave3"}
    assert report["waves"] == ["earlier", "wave3"]


def test_the_rule_writers_own_cases_train_apart_from_their_wave():
    assert training_group("wave10.families.missing.join_none") == "wave10_families"
    assert training_group("wave8.families.settings.vector_dtype") == "wave8_families"
    assert training_group("wave12.providers.auth.google_grant") == "wave12_providers"
    assert training_group("wave12.data.settings.ini_boolean") == "wave12_data"
    assert training_group("wave13_families.tool_parsers.wrong_type") == "wave13_families"
    assert training_group("wave10.langchain.retriever.no_document") == "wave10"
    assert training_group("app.toolbox.unknown_method") == "earlier"
