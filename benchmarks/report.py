"""A benchmark's results on stdout as JSON, with the machine they were measured on (its load too)."""

from __future__ import annotations

import os
import platform
import sys
from typing import Any

import orjson


def write_report(benchmark: str, results: dict[str, Any]) -> None:
    machine = {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "arch": platform.machine(),
        "load_average_1m": round(os.getloadavg()[0], 2),
    }
    report = {"benchmark": benchmark, "machine": machine, **results}
    sys.stdout.buffer.write(orjson.dumps(report, option=orjson.OPT_INDENT_2) + b"\n")
