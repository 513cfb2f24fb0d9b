"""Classification quality on the labelled SDK corpus, through the same path as the daemon.

Every case is judged in four forms an application really writes: the exception logged
as it is, masked by the seed wrapper (``raise ValueError("LLM chat interaction
failed.") from e``) and rendered by structlog's dict_tracebacks, the same masked chain
as stdlib traceback text, and ``LLMChatError(e) from None`` where the cause survives only
in the wrapper's text.
"""

from __future__ import annotations

import traceback
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson

from correlator.devkit.workload import WRAPPER_MESSAGE, render_log
from correlator.emit import LLMChatError
from correlator.emit.errors import causes_beneath
from correlator.formats.decode import decode
from correlator.formats.events import LogEvent
from correlator.processing.classify import Classifier
from correlator.processing.rows import explain_log
from correlator.records import Provenance
from tests.corpus.broad import SPLIT_PATH, build_broad_cases, scenario_of, split_of
from tests.corpus.sdk_errors import WRAPPER_ONLY_MESSAGES, Case, build_cases

FORMS = ("as_raised", "masked_structlog", "masked_text", "llm_chat_error_from_none")
HERE = Provenance("quality", 0, 0)
_ERROR_ID = "4c2a64973bcd"
NOW = datetime.now(UTC).replace(microsecond=0)  # the lines are judged, not stored; still inside every time bound


@dataclass(frozen=True)
class Judged:
    name: str
    form: str
    expected: str
    got: str
    rule: str


def _masked(exc: BaseException) -> BaseException:
    try:
        raise ValueError(WRAPPER_MESSAGE) from exc
    except ValueError as wrapped:
        return wrapped


def _from_none(exc: BaseException) -> BaseException:
    """The text's id is the line's ``error_id``: a fresh one per run could be all letters, a word to the fallback."""
    try:
        raise LLMChatError(exc, error_id=_ERROR_ID) from None
    except LLMChatError as wrapped:
        return wrapped


def log_lines(case: Case) -> Iterator[tuple[str, bytes]]:
    """The four log lines an application could write for this failure."""
    keys: dict[str, Any] = {"error_id": _ERROR_ID}
    if case.finish_reason:
        keys["finish_reason"] = case.finish_reason
    yield "as_raised", render_log("llm call failed", "error", NOW, case.exception, **keys)
    yield "masked_structlog", render_log("llm call failed", "error", NOW, _masked(case.exception), **keys)
    text = "".join(traceback.format_exception(_masked(case.exception)))
    record = {
        "message": "llm call failed",
        "levelname": "ERROR",
        "asctime": f"{NOW:%Y-%m-%d %H:%M:%S},000",
        "exc_info": text,
    }
    yield "masked_text", orjson.dumps({**record, **keys})
    yield "llm_chat_error_from_none", render_log("llm call failed", "error", NOW, _from_none(case.exception), **keys)


def expected_in(form: str, case: Case) -> str:
    """``from None`` keeps only the exception's own text and those it was raised from (an
    exception group's members): over a bare wrapper with no cause, nothing is left."""
    bare = str(case.exception).strip() in WRAPPER_ONLY_MESSAGES and not causes_beneath(case.exception)
    return "unknown" if form == "llm_chat_error_from_none" and bare else case.expected


def judge(cases: list[Case], classifier: Classifier) -> list[Judged]:
    judged = []
    for case in cases:
        for form, line in log_lines(case):
            event = decode(line, LogEvent, HERE)
            assert isinstance(event, LogEvent), event
            label = explain_log(event, classifier).label
            judged.append(Judged(case.name, form, expected_in(form, case), label.error_class, label.rule))
    return judged


def wrapper_only_cases() -> list[Case]:
    cases = []
    for message in WRAPPER_ONLY_MESSAGES:
        try:
            raise ValueError(message)
        except ValueError as exc:
            cases.append(Case(f"wrapper:{message}", "unknown", exc))
    return cases


def summary(judged: list[Judged]) -> dict[str, Any]:
    """Exact-label accuracy overall, per label and per form."""
    totals, correct = Counter(j.expected for j in judged), Counter(j.expected for j in judged if j.got == j.expected)
    return {
        "judgements": len(judged),
        "overall_accuracy": round(sum(correct.values()) / len(judged), 4),
        "per_label": {
            label: {"judgements": totals[label], "accuracy": round(correct[label] / totals[label], 4)}
            for label in sorted(totals)
        },
        "per_form": {
            form: round(
                sum(1 for j in judged if j.form == form and j.got == j.expected)
                / sum(1 for j in judged if j.form == form),
                4,
            )
            for form in FORMS
        },
    }


def _misses(judged: list[Judged]) -> list[dict[str, str]]:
    return [
        {"case": j.name, "form": j.form, "expected": j.expected, "got": j.got, "rule": j.rule}
        for j in judged
        if j.got != j.expected
    ]


def accuracy_report(classifier: Classifier | None = None) -> dict[str, Any]:
    classifier = classifier or Classifier.from_file()
    judged = judge(build_cases(), classifier)
    wrappers = judge(wrapper_only_cases(), classifier)
    return {
        "rules_version": classifier.version,
        "cases": len(judged) // len(FORMS),
        **summary(judged),
        "wrapper_only_left_unknown": round(sum(1 for j in wrappers if j.got == "unknown") / len(wrappers), 4),
        "misses": _misses(judged + wrappers),
    }


NUMBERED_WAVES = tuple(f"wave{number}" for number in range(3, 14))
# The rule writer's own cases named apart from any corpus wave (``wave13_families.*``, not ``wave13.*``).
FAMILY_WAVES = ("wave13_families", "wave15_families", "wave15b_families")


def wave_of(case_name: str) -> str:
    """``wave3`` to ``wave13`` for the third to thirteenth session's cases (:mod:`tests.corpus.wave3` to
    :mod:`tests.corpus.wave11`, :mod:`tests.corpus.wave10_families`, :mod:`tests.corpus.wave11_families`,
    :mod:`tests.corpus.wave12_data`, :mod:`tests.corpus.wave12_providers`, :mod:`tests.corpus.wave13`),
    ``wave13_families``, ``wave15_families`` and ``wave15b_families`` for :mod:`tests.corpus.wave13_families`,
    :mod:`tests.corpus.wave15_families` and :mod:`tests.corpus.wave15b_families`, ``earlier`` for the first two
    waves'."""
    wave = case_name.split(".", 1)[0]
    return wave if wave in NUMBERED_WAVES or wave in FAMILY_WAVES else "earlier"


def broad_report(classifier: Classifier | None = None) -> dict[str, Any]:
    """The broad corpus's development and sealed parts, apart; only development misses are shown.

    A sealed miss read to write a rule would stop measuring the rules: the sealed part says
    how many it misses and how (a confusion count), never which case.
    """
    classifier = classifier or Classifier.from_file()
    part_of = split_of()
    cases = build_broad_cases()
    unassigned = sorted({scenario_of(case.name) for case in cases} - set(part_of))
    if unassigned:
        raise ValueError(f"scenarios not in {SPLIT_PATH.name}: {unassigned} (add them with tests.corpus.broad.assign)")
    report: dict[str, Any] = {"rules_version": classifier.version}
    for part in ("development", "sealed"):
        judged = judge([case for case in cases if part_of[scenario_of(case.name)] == part], classifier)
        report[part] = {"cases": len(judged) // len(FORMS), **summary(judged)}
        wrong = Counter(f"{j.expected} -> {j.got}" for j in judged if j.got != j.expected)
        report[part]["confusion"] = dict(wrong.most_common())
        waves = sorted({wave_of(j.name) for j in judged})
        report[part]["by_wave"] = {wave: summary([j for j in judged if wave_of(j.name) == wave]) for wave in waves}
        if part == "development":
            report[part]["misses"] = _misses(judged)
    return report
