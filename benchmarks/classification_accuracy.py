"""Accuracy per label on the labelled SDK corpus, and on the broad corpus's development and sealed parts, as JSON.

python -m benchmarks.classification_accuracy [--rules path/to/rules.json]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import orjson

from correlator.processing.classify import RULES_PATH, Classifier
from tests.quality import accuracy_report, broad_report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rules", type=Path, default=RULES_PATH)
    args = parser.parse_args()
    classifier = Classifier.from_file(args.rules)
    report = {**accuracy_report(classifier), "broad": broad_report(classifier)}
    sys.stdout.buffer.write(orjson.dumps(report, option=orjson.OPT_INDENT_2) + b"\n")


if __name__ == "__main__":
    main()
