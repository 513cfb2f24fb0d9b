"""Classification accuracy with the newest SDK releases beside the pinned ones, per SDK, as JSON.

    python -m benchmarks.sdk_drift [--keep DIR]

The labelled corpus is raised through real SDKs, so its evidence is whatever text and types
the installed releases produce (openai 3.x, for one, keeps only the body's ``message`` in
``str(exc)``, so the ``code`` field is no longer in the text). Applications upgrade their SDKs
before they upgrade correlator: this builds a throw-away venv with the newest release of
every SDK the corpus uses (``pip install --upgrade``, no constraints), runs the corpus there
through the same path as the suite, and reports it beside this interpreter's (pinned) run.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import orjson

from correlator.processing.classify import Classifier
from tests.corpus.sdk_errors import build_cases
from tests.quality import Judged, judge

ROOT = Path(__file__).resolve().parent.parent

# the distributions the corpus raises through: upgraded to their newest release in the fresh venv
SDKS = (
    "openai", "anthropic", "google-genai", "mistralai", "litellm", "botocore", "httpx", "httpx2", "requests",
    "aiohttp", "pydantic", "pydantic-settings", "jsonschema", "numpy", "orjson",
)  # fmt: skip

# a case's name starts with where it was raised; those raised by the standard library or app code count as python
_SDK_OF_PREFIX = {
    "openai": "openai", "azure": "openai", "anthropic": "anthropic", "gemini": "google-genai",
    "mistral": "mistralai", "bedrock": "botocore", "litellm": "litellm", "requests": "requests",
    "aiohttp": "aiohttp", "pydantic": "pydantic", "pydantic_settings": "pydantic-settings",
    "jsonschema": "jsonschema", "numpy": "numpy", "orjson": "orjson",
}  # fmt: skip
_SOURCE_TREE = ("correlator", "schemas", "benchmarks", "tests/corpus", "tests/quality.py", "pyproject.toml",
                "setup.py", "README.md", "MANIFEST.in")  # fmt: skip


def sdk_of(case_name: str) -> str:
    """The distribution a corpus case was raised through (``python`` for the standard library and app code)."""
    return _SDK_OF_PREFIX.get(case_name.split(".", 1)[0], "python")


def _version(distribution: str) -> str:
    if distribution == "python":
        return sys.version.split()[0]
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def _accuracy(judged: list[Judged]) -> float:
    return round(sum(1 for j in judged if j.got == j.expected) / len(judged), 4) if judged else 0.0


def measure() -> dict[str, Any]:
    """Accuracy of the corpus raised through this interpreter's SDKs: overall, per SDK and version, and the misses."""
    judged = judge(build_cases(), Classifier.from_file())
    by_sdk: dict[str, list[Judged]] = {}
    for one in judged:
        by_sdk.setdefault(sdk_of(one.name), []).append(one)
    return {
        "python": sys.version.split()[0],
        "judgements": len(judged),
        "overall_accuracy": _accuracy(judged),
        "installed": {sdk: _version(sdk) for sdk in SDKS},
        "per_sdk": {
            sdk: {"version": _version(sdk), "judgements": len(rows), "accuracy": _accuracy(rows)}
            for sdk, rows in sorted(by_sdk.items())
        },
        "misses": [
            {"case": j.name, "form": j.form, "expected": j.expected, "got": j.got, "rule": j.rule}
            for j in judged
            if j.got != j.expected
        ],
    }


def _copy_source(destination: Path) -> None:
    """This checkout's code as it is now (edits included), without compiled modules or caches."""
    ignore = shutil.ignore_patterns("*.so", "__pycache__", "*.egg-info")
    for relative in _SOURCE_TREE:
        source, target = ROOT / relative, destination / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target, ignore=ignore)
        else:
            shutil.copy2(source, target)


def measure_with_newest_sdks(workdir: Path) -> dict[str, Any]:
    """Build a venv in ``workdir`` with the newest SDK releases and correlator (plain Python), and measure there."""
    source, venv = workdir / "src", workdir / "venv"
    _copy_source(source)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = str(venv / "bin" / "python")
    env = {key: value for key, value in os.environ.items() if not key.startswith("PIP_")}  # no constraints
    env["CORRELATOR_PURE_PYTHON"] = "1"  # a compile is slow and changes no label
    install = [python, "-m", "pip", "install", "-q", "--upgrade", "--upgrade-strategy", "eager", "-e", str(source)]
    subprocess.run([*install, *SDKS], check=True, env=env)
    done = subprocess.run(
        [python, "-m", "benchmarks.sdk_drift", "--measure-here"],
        cwd=source, env=env, check=True, stdout=subprocess.PIPE,
    )  # fmt: skip
    result: dict[str, Any] = orjson.loads(done.stdout)
    return result


def compare(pinned: dict[str, Any], newest: dict[str, Any]) -> dict[str, Any]:
    """Per SDK, the pinned and the newest release's version and accuracy side by side."""
    sdks = sorted(set(pinned["per_sdk"]) | set(newest["per_sdk"]))
    missing = {"version": "", "judgements": 0, "accuracy": 0.0}
    return {
        sdk: {
            "pinned": pinned["per_sdk"].get(sdk, missing),
            "newest": newest["per_sdk"].get(sdk, missing),
        }
        for sdk in sdks
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--keep", type=Path, help="build the venv here and keep it (default: a temporary directory)")
    parser.add_argument("--measure-here", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure_here:
        sys.stdout.buffer.write(orjson.dumps(measure()))
        return
    pinned = measure()
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
        newest = measure_with_newest_sdks(args.keep)
    else:
        with tempfile.TemporaryDirectory(prefix="sdk-drift-") as workdir:
            newest = measure_with_newest_sdks(Path(workdir))
    side_by_side = compare(pinned, newest)
    changed = [sdk for sdk, side in side_by_side.items() if side["pinned"]["version"] != side["newest"]["version"]]
    report = {
        "rules_version": Classifier.from_file().version,
        "pinned": {"overall_accuracy": pinned["overall_accuracy"], "judgements": pinned["judgements"]},
        "newest": {"overall_accuracy": newest["overall_accuracy"], "judgements": newest["judgements"]},
        "sdks_with_a_newer_release": changed,
        "installed": {sdk: {"pinned": pinned["installed"][sdk], "newest": newest["installed"][sdk]} for sdk in SDKS},
        "per_sdk": side_by_side,
        "pinned_misses": pinned["misses"],
        "newest_misses": newest["misses"],
    }
    sys.stdout.buffer.write(orjson.dumps(report, option=orjson.OPT_INDENT_2) + b"\n")


if __name__ == "__main__":
    main()
