"""Go/no-go for plain log lines past Python: CPU a line, five ways, alternating, as JSON.

    python -m benchmarks.raw_line_cost [--lines 10000] [--rounds 6]

Issue 18's plain lines (``benchmarks.versus_script``'s workload: info lines, two integer extras
each) are made rows and stored into the embedded engine, alternating in one process:

- ``lean``: the daemon's batcher without the C scanner (orjson, the lean row, redaction) and
  the writer's Native insert: a build without ``_plainlines``;
- ``scanned``: the daemon's batcher with the C scanner (``processing.plainlines``: the lines'
  bytes to a Native block, two Hyperscan passes) and the writer's insert of that block;
- ``typed``: a byte-level look at each line (``_pairs``: a flat object without escapes read as
  its key/raw-value pairs by one regex) and the lines, each prefixed in bytes with its
  partition and offset, read by the engine's typed ``JSONEachRow`` reader in one
  ``INSERT … SELECT … FROM file()`` per key set (extras read as text, put in ``attributes``);
- ``extract``: the same look, the lines as strings and every column taken with ``JSONExtract*``
  (last session's ``speeda`` shape);
- ``decided``: each line parsed by orjson and checked by the lean path itself (which builds its
  row: more than a check needs), one Hyperscan pass for secrets over the fetch's bytes, then
  the ``typed`` insert of the lines' bytes, grouped by their extras (the keys orjson found).

No engine shape here (``typed``, ``extract``, ``decided``) masks a secret, checks timestamps'
bounds or proves a row identical to the lean path's (``scanned`` does all three:
``tests/test_lean_path.py``): this measures what the engine's parsing costs against what the lean path and Native
encoding cost, to decide whether building it out can pay (README, issue 18). Per line, the
least process CPU (the engine's threads included) of the rounds: other work only adds.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import orjson

from correlator.devkit.workload import mixed_workload
from correlator.processing.batching import LOGS, PartitionBatcher, collect_cycles_less_often
from correlator.processing.classify import Classifier
from correlator.processing.lean import plain_log_row
from correlator.processing.patterns import PatternSet
from correlator.processing.plainlines import PlainLines, plain_lines
from correlator.processing.rows import CLOCK_SKEW
from correlator.records import LOG_TABLE, Message, Provenance
from correlator.redaction import CARD, RULES
from correlator.warehouse.connection import connect
from correlator.warehouse.migrate import migrate
from correlator.warehouse.writer import Warehouse

STEPS_PER_CALL = 37
DATABASE = "bench"
# the fields these lines carry, by their canonical keys; any other key is an extra
FIELDS = ("event", "level", "timestamp", "logger", "trace_id", "span_id", "service", "model")
_PAIR = re.compile(rb'"([^"]*)":("[^"]*"|[^,}]*)')
# redaction's patterns, every match reported: one scan over a fetch's bytes says which lines hold one
_SECRETS = PatternSet(
    [(pattern, case_sensitive) for pattern, case_sensitive, _ in RULES] + [(CARD, True)], every_match=True
)


def _pairs(line: bytes) -> list[tuple[bytes, bytes]] | None:
    """A flat JSON object's keys and raw values, or None for a line this look cannot read exactly."""
    if not line.isascii() or b"\\" in line or line.count(b"{") != 1 or b"[" in line:
        return None
    pairs = _PAIR.findall(line)
    return pairs if len(pairs) == line.count(b'":') else None


def _typed_insert(path: str, extras: tuple[str, ...], token: str) -> str:
    structure = ", ".join(["_p Int32", "_o Int64", *(f"`{key}` String" for key in (*FIELDS, *extras))])
    attributes = "map(" + ", ".join(f"'{key}', `{key}`" for key in extras) + ")"
    return (
        f"INSERT INTO {DATABASE}.log_events (ts, service, level, logger, message, trace_id, span_id, model, "
        f"attributes, topic, partition, offset) SETTINGS insert_deduplication_token = '{token}', "
        "input_format_json_read_numbers_as_strings = 1 "
        "SELECT parseDateTime64BestEffort(timestamp, 6, 'UTC'), service, lower(level), logger, event, trace_id, "
        f"span_id, model, {attributes}, 'app-logs', _p, _o FROM file('{path}', 'JSONEachRow', '{structure}')"
    )


def _extract_insert(path: str, token: str) -> str:
    known = ", ".join(f"'{key}'" for key in FIELDS)
    text = {key: f"JSONExtractString(m, '{key}')" for key in FIELDS}
    return (
        f"INSERT INTO {DATABASE}.log_events (ts, service, level, logger, message, trace_id, span_id, model, "
        f"attributes, topic, partition, offset) SETTINGS insert_deduplication_token = '{token}' "
        f"WITH arrayFilter(x -> x.1 NOT IN ({known}), JSONExtractKeysAndValuesRaw(m)) AS extra "
        f"SELECT parseDateTime64BestEffort({text['timestamp']}, 6, 'UTC'), {text['service']}, "
        f"lower({text['level']}), {text['logger']}, {text['event']}, {text['trace_id']}, {text['span_id']}, "
        f"{text['model']}, mapFromArrays(arrayMap(x -> x.1, extra), arrayMap(x -> trim(BOTH '\"' FROM x.2), extra)), "
        "'app-logs', p, o FROM file('" + path + "', 'JSONCompactEachRow', 'm String, p Int32, o Int64')"
    )


class Paths:
    """The ways, each given the lines and their first offset; each returns its process CPU seconds."""

    def __init__(self, warehouse: Warehouse, classifier: Classifier, work: Path, plain: PlainLines | None) -> None:
        self.warehouse, self.classifier, self.work, self.plain = warehouse, classifier, work, plain

    def lean(self, lines: list[bytes], first: int) -> float:
        return self._batched(lines, first, None)

    def scanned(self, lines: list[bytes], first: int) -> float:
        return self._batched(lines, first, self.plain)

    def _batched(self, lines: list[bytes], first: int, plain: PlainLines | None) -> float:
        now_ms = int(time.time() * 1000)
        messages = [Message(line, Provenance("app-logs", 0, first + n, now_ms)) for n, line in enumerate(lines)]
        started = time.process_time()
        batcher = PartitionBatcher(LOGS, self.classifier, max_records=len(lines) + 1, plain=plain)
        batcher.add(messages)
        batch = batcher.take()
        assert batch is not None and batch.row_count == len(lines) and (plain is None or not batch.rows)
        self.warehouse.store([batch])
        return time.process_time() - started

    def typed(self, lines: list[bytes], first: int) -> float:
        started = time.process_time()
        groups: dict[tuple[str, ...], list[bytes]] = {}
        for n, line in enumerate(lines):
            pairs = _pairs(line)
            assert pairs is not None
            extras = tuple(key.decode() for key, _ in pairs if key.decode() not in FIELDS)
            groups.setdefault(extras, []).append(b'{"_p":0,"_o":%d,%s\n' % (first + n, line[1:]))
        self._insert_groups(groups, f"typed:{first}")
        return time.process_time() - started

    def _insert_groups(self, groups: dict[tuple[str, ...], list[bytes]], token: str) -> None:
        for number, (extras, prefixed) in enumerate(groups.items()):
            path = self._written(b"".join(prefixed))
            self.warehouse.client.command(_typed_insert(path, extras, f"{token}:{number}"))
            os.unlink(path)

    def decided(self, lines: list[bytes], first: int) -> float:
        started = time.process_time()
        latest = datetime.now(UTC) + CLOCK_SKEW
        assert not set(_SECRETS.match_ends(b"\n".join(lines))), "no line here holds a secret"
        groups: dict[tuple[str, ...], list[bytes]] = {}
        for n, line in enumerate(lines):
            document = orjson.loads(line)
            provenance = Provenance("app-logs", 0, first + n, None)
            assert plain_log_row(document, provenance, self.classifier, latest) is not None
            extras = tuple(key for key in document if key not in FIELDS)
            groups.setdefault(extras, []).append(b'{"_p":0,"_o":%d,%s\n' % (first + n, line[1:]))
        self._insert_groups(groups, f"decided:{first}")
        return time.process_time() - started

    def extract(self, lines: list[bytes], first: int) -> float:
        started = time.process_time()
        rows = []
        for n, line in enumerate(lines):
            assert _pairs(line) is not None
            rows.append(b'["%s",0,%d]\n' % (line.replace(b'"', b'\\"'), first + n))
        path = self._written(b"".join(rows))
        self.warehouse.client.command(_extract_insert(path, f"extract:{first}"))
        os.unlink(path)
        return time.process_time() - started

    def _written(self, data: bytes) -> str:
        handle, path = tempfile.mkstemp(dir=self.work, suffix=".jsonl")
        with os.fdopen(handle, "wb") as file:
            file.write(data)
        return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=6)
    args = parser.parse_args()
    workload = mixed_workload(
        args.lines // STEPS_PER_CALL + 1, failure_share=1.0, seed=18, steps_per_call=STEPS_PER_CALL
    )
    lines = [line for line in workload.logs if b'"level":"info"' in line][: args.lines]
    work = Path(tempfile.mkdtemp(prefix="correlator-raw-line-cost-"))
    warehouse = Warehouse(connect(f"chdb://{work / 'warehouse'}"), DATABASE)
    migrate(warehouse.client, DATABASE, retention_days=30)
    collect_cycles_less_often()
    classifier = Classifier.from_file()
    plain = plain_lines(classifier, redact=True, hash_prompts=False)
    paths = Paths(warehouse, classifier, work, plain)
    ways: dict[str, Callable[[list[bytes], int], float]] = {
        "lean": paths.lean,
        **({"scanned": paths.scanned} if plain is not None else {}),
        "typed": paths.typed,
        "extract": paths.extract,
        "decided": paths.decided,
    }
    costs: dict[str, list[float]] = {name: [] for name in ways}
    first = 0
    for _ in range(args.rounds):
        for name, way in ways.items():
            costs[name].append(way(lines, first))
            first += len(lines)
    look = min(_timed(lambda: [_pairs(line) for line in lines]) for _ in range(args.rounds))
    stored = warehouse.client.query(
        f"SELECT count(), uniqExact(offset), countIf(mapContains(attributes, 'step_index')) "
        f"FROM {DATABASE}.{LOG_TABLE.name}"
    ).result_rows[0]
    per_line = 1e6 / len(lines)
    report = {
        "benchmark": "raw_line_cost",
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "load_average_1m": os.getloadavg()[0]},
        "lines": len(lines),
        "rounds": args.rounds,
        "process_cpu_us_per_line": {name: round(min(runs) * per_line, 2) for name, runs in costs.items()},
        "of_which_byte_look_us_per_line": round(look * per_line, 2),
        "rows_stored": {"rows": stored[0], "distinct_offsets": stored[1], "with_attributes": stored[2]},
    }
    sys.stdout.buffer.write(orjson.dumps(report, option=orjson.OPT_INDENT_2) + b"\n")


def _timed(work: Callable[[], object]) -> float:
    started = time.process_time()
    work()
    return time.process_time() - started


if __name__ == "__main__":
    main()
