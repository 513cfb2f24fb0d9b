"""Classification throughput on one core: error events per second, as JSON.

    python -m benchmarks.classification_speed [--seconds 3]

Events are the labelled corpus's log lines in all four forms (structlog dicts, traceback
text, masked and unmasked). Figures: explaining already-validated events (root cause +
rules), and each of the two alone; the whole decode path (orjson + pydantic + explain); that path up to the stored
row, without and with redaction; and redacting built rows alone.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from collections.abc import Callable

import orjson

from correlator.formats.decode import decode
from correlator.formats.events import LogEvent
from correlator.processing.classify import Classifier
from correlator.processing.redact import row_redactor
from correlator.processing.rows import ERROR_LEVELS, chain_of, explain_log, log_row
from correlator.records import LOG_TABLE, Provenance
from tests.corpus.sdk_errors import build_cases
from tests.quality import log_lines


def _compiled_modules() -> list[str]:
    """The loaded correlator modules that setup.py compiled with mypyc (none with CORRELATOR_PURE_PYTHON=1)."""
    return sorted(
        name
        for name, module in sys.modules.items()
        if name.startswith("correlator.") and (getattr(module, "__file__", None) or "").endswith(".so")
    )


def _rate(work: Callable[[], int], seconds: float) -> float:
    """Best of repeated timed passes: events per second."""
    best, deadline = 0.0, time.monotonic() + seconds
    while time.monotonic() < deadline:
        started = time.perf_counter()
        done = work()
        best = max(best, done / (time.perf_counter() - started))
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=3.0)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core, as the target says
    classifier = Classifier.from_file()
    lines = [line for case in build_cases() for _, line in log_lines(case)]
    here = Provenance("bench", 0, 0)
    events = [decode(line, LogEvent, here) for line in lines]

    def explain_only() -> int:
        for event in events:
            explain_log(event, classifier)  # type: ignore[arg-type]
        return len(events)

    chains = [chain_of(event, event.level.lower() in ERROR_LEVELS, classifier) for event in events]  # type: ignore[union-attr]

    def extract_only() -> int:
        for event in events:
            chain_of(event, event.level.lower() in ERROR_LEVELS, classifier)  # type: ignore[union-attr]
        return len(events)

    def rules_only() -> int:
        for chain in chains:
            classifier.classify_chain(chain)
        return len(chains)

    def decode_and_explain() -> int:
        for line in lines:
            explain_log(decode(line, LogEvent, here), classifier)  # type: ignore[arg-type]
        return len(lines)

    redact_row = row_redactor(LOG_TABLE.columns)
    assert redact_row is not None
    built = [log_row(event, here, classifier) for event in events]  # type: ignore[arg-type]

    def rows(redacted: bool) -> Callable[[], int]:
        def work() -> int:
            for line in lines:
                row = log_row(decode(line, LogEvent, here), here, classifier)  # type: ignore[arg-type]
                if redacted:
                    redact_row(row)
            return len(lines)

        return work

    def redact_only() -> int:
        for row in built:
            redact_row(row)
        return len(built)

    report = {
        "events": len(lines),
        "mean_event_bytes": round(sum(map(len, lines)) / len(lines)),
        "explain_events_per_second": round(_rate(explain_only, args.seconds)),
        "of_which_root_cause_extraction_events_per_second": round(_rate(extract_only, args.seconds)),
        "of_which_rules_on_extracted_chains_per_second": round(_rate(rules_only, args.seconds)),
        "decode_and_explain_events_per_second": round(_rate(decode_and_explain, args.seconds)),
        "rows_per_second": round(_rate(rows(redacted=False), args.seconds)),
        "redacted_rows_per_second": round(_rate(rows(redacted=True), args.seconds)),
        "redact_only_rows_per_second": round(_rate(redact_only, args.seconds)),
        "target_events_per_second": 50_000,
        "python": f"{platform.python_version()} ({sys.executable})",
        "compiled_with_mypyc": _compiled_modules(),
        "machine": f"{platform.machine()} {os.cpu_count()} cpus",
    }
    sys.stdout.buffer.write(orjson.dumps(report, option=orjson.OPT_INDENT_2) + b"\n")


if __name__ == "__main__":
    main()
