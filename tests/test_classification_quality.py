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
# Issue 19's target for the sealed part is 95 % exact and 85 % per label. The first two
# waves' sealed scenarios reach it (rules 2026.12.01-7: 98.36 %, 91.7 % for the weakest
# label). With the third wave's (tests/corpus/wave3.py) and the fourth's (tests/corpus/wave4.py,
# both its batches split and measured before any rule was changed for them) the part measured
# 84.45 % with rules 2026.12.01-5 and measures 90.87 % with rules 2026.12.01-7 and fallback
# lr-73e13e8557 (one wave-4 scenario, seen while reading the corpus, moved to development since);
# its weakest labels: quota_exceeded 75 %, missing_data 77.8 %, configuration 78.9 %.
# The fifth wave (tests/corpus/wave5.py, its four batches each split and measured before any rule
# was changed for them) brings the part to 83.76 % with the same rules and model; its five sealed
# quota cases all miss, so quota_exceeded is at 33.3 %.
# Rules 2026.12.01-8 (written before the fifth wave landed) and -9 (after, from its development misses),
# fallback lr-73e13e8557 (retrained with waves 4 and 5 it lowered the part): 92.51 %; wave 5's part
# 82.8 %; the weakest labels quota_exceeded 77.8 %, corrupted_data 84.2 %, configuration 86.8 %.
# The sixth wave (tests/corpus/wave6.py, each batch split and measured before any rule was changed for
# it), same rules and model: its first batch brought the part to 90.53 %, its second to 87.91 %, its
# third to 87.04 % (wave 6's part 63.4 %). A label with one sealed case of this wave that misses in every
# form would hold a per-label floor of 0 %: the floor holds for the first five waves' sealed judgements.
# Rules 2026.12.02-5 (from the development misses, wave 6's too) with LLMChatError's [root: …] names and
# fallback lr-4c05360d98 (the same waves' training on the new forms; with every wave's development part
# it gave 87.73 %): 88.19 %; the first five waves' part 93.22 %, wave 5's 84.31 %, wave 6's 66.46 %.
# The seventh wave (tests/corpus/wave7.py, each batch split and measured before any rule was changed for
# it), rules 2026.12.02-5 and fallback lr-4c05360d98: its first batch brings the part to 87.28 % (wave 7's
# part 70.8 %), its second to 87.03 % (wave 7's part 75.0 %), its third to 86.53 % (wave 7's part 73.1 %),
# its fourth to 86.45 % (wave 7's part 74.2 %).
# Rules 2026.12.02-6 (families read from the libraries' own wording, and wave 7's development misses; no sealed
# case looked at) with fallback lr-a05122d19a: 91.06 %; wave 5's part 89.71 %, wave 6's 87.2 %, wave 7's 75.0 %;
# the weakest labels quota_exceeded 72.2 %, configuration 83.5 %, out_of_memory 85.7 %, missing_data 86.4 %.
# The eighth wave (tests/corpus/wave8.py, each batch split and measured before any rule was changed for it), rules
# 2026.12.02-6 and fallback lr-342d5fd183: its first batch brings the part to 88.34 % (wave 8's part 52.6 %).
# Rules 2026.12.02-7 (families broadened from the libraries' and providers' wording, and wave 8's first batch's
# development misses; no sealed case looked at), fallback retrained with the same settings (lr-342d5fd183 again:
# its training waves are unchanged): 89.09 %; wave 5's part 91.67 %, wave 6's 89.63 %, wave 8's 52.6 %; the
# first five waves' weakest label quota_exceeded 88.9 %.
# The ninth wave (tests/corpus/wave9.py, each batch split and measured before any rule was changed for it), rules
# 2026.12.02-7 and fallback lr-342d5fd183: its first batch brings the part to 87.50 % (wave 9's part 57.1 %), its
# second to 86.32 % (wave 9's part 67.3 %), its third to 85.53 % (wave 9's part 68.2 %).
# Rules 2026.12.02-8 (families from providers' documented codes and libraries' wording, and wave 9's first batch's
# development misses; no sealed case looked at), with wave 9's first batch only: with lr-342d5fd183 87.77 %; with
# fallback lr-57f3aa4753 (every wave's development part, min_confidence 0.7, chosen by leave-one-wave-out): 89.10 %;
# wave 7's part 82.26 %, wave 8's 64.47 %, wave 9's 57.1 %.
# With wave 9's three batches, rules 2026.12.02-8 (their development misses too) and lr-432e471cc0: 87.38 % (323
# cases; 85.53 % with -7), wave 9's part 70.9 %. Fallback lr-fe89aebcd9 (function words left out of the text's
# words, chosen by leave-one-wave-out on the development part): 87.00 %, wave 7's part 79.03 %, wave 8's 63.16 %.
# The tenth wave (tests/corpus/wave10.py, each batch split and measured before any rule was changed for it), rules
# 2026.12.02-8 and fallback lr-fe89aebcd9: its first batch (langchain-core) brings the part to 86.90 % (wave 10's part
# 84.6 %), its second (SDK classes no wave raised) to 86.11 % (wave 10's part 71.1 %).
# Rules 2026.12.03-10 (families from the libraries' and platforms' own wording, tests/corpus/wave11_families.py; no
# sealed case looked at to write them, two moved to development as read by accident, 340 cases) with fallback
# lr-a5300eebcc (retrained on them, same waves): 88.75 % (-9 with lr-6d86e21b8f on the same cases: 86.99 %); wave
# 6's part 92.68 %, wave 7's 87.10 %, wave 8's 77.63 %, wave 9's 74.55 %.
# The eleventh wave (tests/corpus/wave11.py, split and measured before anything changed for it), rules 2026.12.02-9 and
# fallback lr-6d86e21b8f: the part 87.06 % -> 87.67 % (367 cases; wave 11's part 96.0 %, 25 cases). Fallback
# lr-9c68034104 (waves 10 and 11's development parts trained on, chosen by leave-one-wave-out): 87.67 % again (wave 8's
# part 72.4 -> 69.7 %, two judgements; wave 9's 70.9 -> 71.8 %, two; the others unchanged).
# Merged (rules -10, waves 10 and 11 trained on, lr-e025121237; 365 cases): 89.25 %; wave 6's part 92.68 %, wave 7's
# 87.10 %, wave 8's 75.0 %, wave 9's 75.45 %, wave 10's 75.0 %, wave 11's 96.0 %.
# Rules 2026.12.03-11 (data and configuration families from the libraries' raise sites, tests/corpus/wave12_data.py;
# no sealed case looked at, the sealed figure read once at the end), lr-e025121237 (retrained: the same bytes): 90.41 %;
# configuration 85.81 %, missing data 93.55 %, corrupted data 87.5 %; wave 5's part 92.16 %, wave 7's 90.32 %, wave
# 9's 77.73 %, wave 10's 84.21 %.
# The thirteenth wave (tests/corpus/wave13.py: groq, ollama, cohere and pydantic-ai, a repair loop, a vector store,
# batch results and a response cache; both batches split before anything was measured), rules -11 and lr-e025121237:
# the part 90.41 % (365 cases) -> 89.87 % (385 cases; wave 13's part 80.0 %, 20 cases), so the floor follows it down.
# Rules 2026.12.04-12 (families from the libraries' and providers' own wording, tests/corpus/wave13_families.py; no
# sealed case looked at, the sealed figure read at the start and once at the end), lr-e025121237 (training gives the
# same bytes): 90.68 %; truncation 83.33 -> 100 %, wave 9's part 79.55 %; no label or wave lower.
# Merged, wave 13 with rules -12 (written apart from it, on another branch): 90.13 % (385 cases; wave 13's part 80.0 %,
# as with -11).
# Rules 2026.12.04-13 (from wave 13's development misses and the SDKs' own classes and wording; no sealed case looked
# at, the sealed figure read once at the end), lr-e025121237 (training gives the same bytes): 90.39 %; wave 13's part
# 80.0 -> 85.0 %.
# Rules 2026.12.06-14 (kinds: start-up steps and settings loaders, memory wording, safety verdicts;
# tests/corpus/wave15_families.py; no sealed case looked at, the sealed figure read after each batch), lr-e025121237:
# 90.65 %; out_of_memory 87.5 -> 94.6 %, wave 9's part 81.36 %. Rules -15 (a settings file's decoding error and a
# stored-data source line under a settings frame, a schema named for a function, rich, packaging, click, markdown-it,
# Docker and cramjam): 91.49 %; configuration 85.67 -> 89.0 %, corrupted data 87.73 -> 89.09 %; wave 6's part
# 95.12 %, wave 8's 85.53 %, wave 9's 81.82 %; no label or wave lower. Rules -16 (moderation results) and -17 (a
# storage word outweighs a setting's noun): 91.49 % again.
# What each part reaches is asserted as a floor until the target is (the README says where the gap is).
TARGET_OVERALL, TARGET_PER_LABEL = 0.95, 0.85
SEALED_OVERALL_FLOOR = 0.914  # rules -15 (-14: 0.906; -13: 0.903; wave 13 and -12: 0.901; -11: 0.904; -10: 0.892)
SEALED_PER_LABEL_FLOOR = 0.888  # quota_exceeded, rules 2026.12.02-7 (0.777 with -6)
PER_LABEL_FLOORED_WAVES = ("earlier", "wave3", "wave4", "wave5")
WAVE3_SEALED_FLOOR = 0.94
WAVE4_SEALED_FLOOR = 0.962
WAVE5_SEALED_FLOOR = 0.921  # rules -11 (-7: 0.916; 0.897 with -6)
WAVE6_SEALED_FLOOR = 0.95  # rules -15 (-10: 0.926; -9: 0.902; -7: 0.896; -6: 0.872; its baseline, 2026.12.01-9: 0.634)
WAVE7_SEALED_FLOOR = 0.903  # rules -11 (-10: 0.871; -9: 0.806; its baseline, rules 2026.12.02-5: 0.741)
WAVE8_SEALED_FLOOR = 0.855  # rules -15 (-10, lr-e025121237: 0.75; -9: 0.723; lr-9c68034104: 0.697; baseline, -6: 0.526)
WAVE9_SEALED_FLOOR = 0.818  # rules -15 (-14: 0.813; -12: 0.795; -11: 0.777; -10: 0.754; its baseline, -7: 0.681)
WAVE10_SEALED_FLOOR = 0.842  # rules -11 (-10: 0.75; its baseline, two batches, rules -8: 0.71)
WAVE11_SEALED_FLOOR = 0.96  # its baseline, rules 2026.12.02-9 and lr-6d86e21b8f
WAVE13_SEALED_FLOOR = 0.85  # rules -13 (its baseline, rules 2026.12.03-11 and lr-e025121237: 0.8)
# Development: the first three waves' part as it was written against; the fourth wave's since rules 2026.12.01-7;
# the fifth wave's since rules 2026.12.01-9 (all three at 100 % since rules 2026.12.02-2); the sixth wave's since
# rules 2026.12.02-5 (its baseline, rules 2026.12.01-9: 0.732); all six at 100 % with rules 2026.12.02-6.
DEVELOPMENT_FLOOR, WAVE4_DEVELOPMENT_FLOOR, WAVE5_DEVELOPMENT_FLOOR = 0.99, 0.99, 0.99
WAVE6_DEVELOPMENT_FLOOR = 0.99
WAVE7_DEVELOPMENT_FLOOR = 0.99  # rules 2026.12.02-6 (its baseline, four batches, rules 2026.12.02-5: 0.583)
WAVE8_DEVELOPMENT_FLOOR = 0.99  # rules 2026.12.02-7 (its baseline, first batch, rules 2026.12.02-6: 0.75)
WAVE9_DEVELOPMENT_FLOOR = 0.99  # rules 2026.12.02-8 (its baseline, three batches, rules 2026.12.02-7: 0.557)
# The rule writer's own cases of rules 2026.12.02-9 (tests/corpus/wave10_families.py): a stored object's body parsed
# in a neutral function is known by its source line, which only the text traceback carries (3 judgements), and a
# pydantic-settings model's error from None names neither settings nor its frames (1).
# With wave 10's two batches (their baseline, rules 2026.12.02-8 and lr-fe89aebcd9: 0.81, first batch 0.76), -9: 0.938.
# Waves 10 and 11's development parts trained on (lr-9c68034104 with rules -9: 0.967); merged with rules -10 and
# lr-e025121237: 0.965.
# Rules 2026.12.03-11 (the data and configuration families, tests/corpus/wave12_data.py): 0.975.
# Rules 2026.12.04-12 (LangChain's tool-argument validation and tool-call parsers by frame and wording): 0.989.
WAVE10_DEVELOPMENT_FLOOR = 0.989
# Wave 11's development part (its baseline, rules -9, lr-6d86e21b8f: 0.913) and the rule writer's own cases of rules
# 2026.12.03-10 (tests/corpus/wave11_families.py; their baseline, rules -9: 0.375), merged: 0.968; rules -11 (a 429
# speaking of capacity, a model identifier, a refused connection under LiteLLM's 5xx): 0.997.
WAVE11_DEVELOPMENT_FLOOR = 0.997
# The rule writer's own provider and platform cases of rules 2026.12.03-11 (tests/corpus/wave12_providers.py, 62
# cases; their baseline, rules -10 and lr-e025121237: 0.238). Rules -11 left the sealed part at 0.8925.
# The rule writer's data and configuration cases (tests/corpus/wave12_data.py, 40 cases; their baseline, rules -10:
# 0.406) share wave 12's floor.
WAVE12_DEVELOPMENT_FLOOR = 0.99
# The thirteenth wave's development part, 55 cases (its baseline, rules 2026.12.03-11 and lr-e025121237: 0.75); rules
# -13 (Groq's, Cohere's, pydantic-ai's and OpenAI batches' own classes and wording): 0.95.
WAVE13_DEVELOPMENT_FLOOR = 0.95
# The rule writer's own cases of rules 2026.12.04-12 (tests/corpus/wave13_families.py, 36 cases; their baseline, rules
# -11 and lr-e025121237: 0.25): 0.979 (three `from None` judgements name neither the tool nor the codec). With rules
# -13's 10 cases (46 cases; rules -12 on them all: 0.880): 0.983, the same three judgements missed; rules -15 (a schema
# named for a function, LangChain's @tool): 0.994, one left (a codec named only by the app's function).
WAVE13_FAMILIES_DEVELOPMENT_FLOOR = 0.994
# The rule writer's own cases of rules 2026.12.06-14 to -17 (tests/corpus/wave15_families.py, 44 cases; rules -13 on
# them 0.494, -14 0.739, -15 0.841, -16 0.955, -17 1.0).
WAVE15_FAMILIES_DEVELOPMENT_FLOOR = 0.99
# The rule writer's own cases of rules 2026.12.06-18 (tests/corpus/wave15b_families.py, 12 cases, content filter by
# the libraries' own wording; rules -17 on them 0.25, -18 1.0).
WAVE15B_FAMILIES_DEVELOPMENT_FLOOR = 0.99


@pytest.fixture(scope="module")
def broad() -> dict:
    return broad_report()


def _weak(per_label: dict, floor: float) -> dict:
    return {label: stats for label, stats in per_label.items() if stats["accuracy"] < floor}


def _per_label_over(by_wave: dict, waves: tuple[str, ...]) -> dict:
    """Accuracy per label over some waves' judgements (each wave's summary weighted by its judgements)."""
    judgements: dict[str, int] = {}
    correct: dict[str, float] = {}
    for wave in waves:
        for label, stats in by_wave[wave]["per_label"].items():
            judgements[label] = judgements.get(label, 0) + stats["judgements"]
            correct[label] = correct.get(label, 0.0) + stats["accuracy"] * stats["judgements"]
    return {label: {"judgements": n, "accuracy": correct[label] / n} for label, n in judgements.items()}


def test_the_first_two_waves_sealed_part_meets_the_target_overall_and_per_label(broad: dict):
    earlier = broad["sealed"]["by_wave"]["earlier"]
    assert earlier["overall_accuracy"] >= TARGET_OVERALL, broad["sealed"]["confusion"]
    assert not _weak(earlier["per_label"], TARGET_PER_LABEL), broad["sealed"]["confusion"]


def test_sealed_part_holds_its_floor_overall_and_per_label(broad: dict):
    sealed = broad["sealed"]
    assert sealed["overall_accuracy"] >= SEALED_OVERALL_FLOOR, sealed["confusion"]
    assert sealed["by_wave"]["wave3"]["overall_accuracy"] >= WAVE3_SEALED_FLOOR, sealed["confusion"]
    assert sealed["by_wave"]["wave4"]["overall_accuracy"] >= WAVE4_SEALED_FLOOR, sealed["confusion"]
    assert sealed["by_wave"]["wave5"]["overall_accuracy"] >= WAVE5_SEALED_FLOOR, sealed["confusion"]
    assert sealed["by_wave"]["wave6"]["overall_accuracy"] >= WAVE6_SEALED_FLOOR, sealed["confusion"]
    assert sealed["by_wave"]["wave7"]["overall_accuracy"] >= WAVE7_SEALED_FLOOR, sealed["confusion"]
    assert sealed["by_wave"]["wave8"]["overall_accuracy"] >= WAVE8_SEALED_FLOOR, sealed["confusion"]
    assert sealed["by_wave"]["wave9"]["overall_accuracy"] >= WAVE9_SEALED_FLOOR, sealed["confusion"]
    assert sealed["by_wave"]["wave10"]["overall_accuracy"] >= WAVE10_SEALED_FLOOR, sealed["confusion"]
    assert sealed["by_wave"]["wave11"]["overall_accuracy"] >= WAVE11_SEALED_FLOOR, sealed["confusion"]
    assert sealed["by_wave"]["wave13"]["overall_accuracy"] >= WAVE13_SEALED_FLOOR, sealed["confusion"]
    floored = _per_label_over(sealed["by_wave"], PER_LABEL_FLOORED_WAVES)
    assert not _weak(floored, SEALED_PER_LABEL_FLOOR), sealed["confusion"]


def test_development_part_holds_its_floors(broad: dict):
    development = broad["development"]
    written_against = [development["by_wave"][wave] for wave in ("earlier", "wave3")]
    correct = sum(wave["overall_accuracy"] * wave["judgements"] for wave in written_against)
    assert correct / sum(wave["judgements"] for wave in written_against) >= DEVELOPMENT_FLOOR, development["misses"]
    assert development["by_wave"]["wave4"]["overall_accuracy"] >= WAVE4_DEVELOPMENT_FLOOR, development["misses"]
    assert development["by_wave"]["wave5"]["overall_accuracy"] >= WAVE5_DEVELOPMENT_FLOOR, development["misses"]
    assert development["by_wave"]["wave6"]["overall_accuracy"] >= WAVE6_DEVELOPMENT_FLOOR, development["misses"]
    assert development["by_wave"]["wave7"]["overall_accuracy"] >= WAVE7_DEVELOPMENT_FLOOR, development["misses"]
    assert development["by_wave"]["wave8"]["overall_accuracy"] >= WAVE8_DEVELOPMENT_FLOOR, development["misses"]
    assert development["by_wave"]["wave9"]["overall_accuracy"] >= WAVE9_DEVELOPMENT_FLOOR, development["misses"]
    assert development["by_wave"]["wave10"]["overall_accuracy"] >= WAVE10_DEVELOPMENT_FLOOR, development["misses"]
    assert development["by_wave"]["wave11"]["overall_accuracy"] >= WAVE11_DEVELOPMENT_FLOOR, development["misses"]
    assert development["by_wave"]["wave12"]["overall_accuracy"] >= WAVE12_DEVELOPMENT_FLOOR, development["misses"]
    assert development["by_wave"]["wave13"]["overall_accuracy"] >= WAVE13_DEVELOPMENT_FLOOR, development["misses"]
    families = development["by_wave"]["wave13_families"]
    assert families["overall_accuracy"] >= WAVE13_FAMILIES_DEVELOPMENT_FLOOR, development["misses"]
    kinds = development["by_wave"]["wave15_families"]
    assert kinds["overall_accuracy"] >= WAVE15_FAMILIES_DEVELOPMENT_FLOOR, development["misses"]
    verdicts = development["by_wave"]["wave15b_families"]
    assert verdicts["overall_accuracy"] >= WAVE15B_FAMILIES_DEVELOPMENT_FLOOR, development["misses"]


def test_every_broad_scenario_is_in_exactly_one_recorded_part():
    recorded = orjson.loads(SPLIT_PATH.read_bytes())
    development, sealed = set(recorded["development"]), set(recorded["sealed"])
    assert not development & sealed
    assert set(recorded["moved_to_development"]) <= development
    assert {scenario_of(case.name) for case in build_broad_cases()} == development | sealed
