"""Progress of a long job: a bar with rate and ETA on a terminal, one JSON line at a time otherwise."""

from __future__ import annotations

import sys
import time
from typing import Protocol, TextIO

import orjson
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, ProgressColumn, Task, TextColumn, TimeRemainingColumn
from rich.progress import Progress as RichBar
from rich.text import Text


class Progress(Protocol):
    def set_total(self, total: int) -> None: ...

    def advance(self, units: int, records: int) -> None: ...

    def close(self) -> None: ...


class _RecordRate(ProgressColumn):
    def render(self, task: Task) -> Text:
        elapsed = task.elapsed or 0.0
        records = int(task.fields.get("records", 0))
        rate = records / elapsed if elapsed > 0 else 0.0
        return Text(f"{records:,} records {rate:,.0f}/s", style="progress.data.speed", no_wrap=True)


class BarProgress:
    """A rich progress bar on stderr: units done of total, records, records per second, ETA."""

    def __init__(self, description: str, unit: str) -> None:
        self._bar = RichBar(
            TextColumn(f"[bold]{description}"),
            BarColumn(bar_width=24),
            MofNCompleteColumn(),
            TextColumn(unit),
            _RecordRate(),
            TimeRemainingColumn(),
            console=Console(stderr=True),
        )
        self._task = self._bar.add_task(description, total=None, records=0)
        self._records = 0
        self._bar.start()

    def set_total(self, total: int) -> None:
        self._bar.update(self._task, total=total)

    def advance(self, units: int, records: int) -> None:
        self._records += records
        self._bar.update(self._task, advance=units, records=self._records)

    def close(self) -> None:
        self._bar.stop()


class JsonProgress:
    """One JSON object per line, at most every ``interval`` seconds and once at the end: for logs and CI."""

    def __init__(self, description: str, unit: str, stream: TextIO | None = None, interval: float = 2.0) -> None:
        self.description, self.unit = description, unit
        self.stream = stream or sys.stderr
        self.interval = interval
        self.total: int | None = None
        self.done = self.records = 0
        self._started = self._last = time.monotonic()

    def set_total(self, total: int) -> None:
        self.total = total

    def advance(self, units: int, records: int) -> None:
        self.done += units
        self.records += records
        if time.monotonic() - self._last >= self.interval:
            self._emit()

    def close(self) -> None:
        self._emit()

    def _emit(self) -> None:
        self._last = time.monotonic()
        elapsed = self._last - self._started
        rate = self.done / elapsed if elapsed > 0 else 0.0
        remaining = None if self.total is None or rate == 0 else max(0.0, (self.total - self.done) / rate)
        line = {
            "progress": self.description,
            self.unit: self.done,
            "total": self.total,
            "records": self.records,
            "records_per_second": round(self.records / elapsed) if elapsed > 0 else 0,
            "eta_seconds": None if remaining is None else round(remaining, 1),
        }
        self.stream.write(orjson.dumps(line).decode() + "\n")
        self.stream.flush()


def progress_for(description: str, unit: str, interval: float, stream: TextIO | None = None) -> Progress:
    """A bar when ``stream`` (stderr by default) is a terminal, JSON lines every ``interval`` s when it is not."""
    stream = stream or sys.stderr
    return BarProgress(description, unit) if stream.isatty() else JsonProgress(description, unit, stream, interval)
