"""Builds ``correlator-emit`` from the same sources as ``correlator``: ``correlator/emit/`` and the
redaction rules it applies (``correlator/redaction.py``), staged under ``build/src`` at build time.

No ``correlator/__init__.py`` is shipped: installed alone, ``correlator`` is a namespace package
holding the emitter; beside the full distribution, the full one's package is the one imported.
"""

import shutil
from pathlib import Path

from setuptools import setup

HERE = Path(__file__).resolve().parent
PACKAGE = HERE.parents[1] / "correlator"
STAGED = HERE / "build" / "src"
SHIPPED = ["emit/*.py", "redaction.py"]


def stage() -> None:
    shutil.rmtree(STAGED, ignore_errors=True)
    for pattern in SHIPPED:
        for source in PACKAGE.glob(pattern):
            destination = STAGED / "correlator" / source.relative_to(PACKAGE)
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, destination)


stage()
setup(
    package_dir={"": "build/src"},
    packages=["correlator.emit"],
    py_modules=["correlator.redaction"],
)
