"""Quality targets on the labelled corpus of real SDK errors (tests/corpus), in every log form."""

from __future__ import annotations

import pytest

from tests.quality import accuracy_report


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
