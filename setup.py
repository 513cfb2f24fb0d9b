"""Ships the top-level ``schemas/`` inside the wheel as ``correlator/schemas`` (see correlator/schemas_dir.py),
compiles the classification hot path with mypyc, and builds the plain-line scanner (C).

Root-cause extraction and the rules run for every failure line; compiled, they explain
half as many events again a second (``python -m benchmarks.classification_speed``). The same
modules run as plain Python where they cannot be compiled (no C compiler or Python headers:
the install goes on without them) or where ``CORRELATOR_PURE_PYTHON=1`` is set at install.
The scanner (``correlator/processing/_plainlines.c``) is optional the same way: without it the
lean path takes every plain line (``correlator/processing/plainlines.py``).
"""

import os
import shutil
from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_py import build_py

COMPILED = [
    f"correlator/processing/{name}.py" for name in ("patterns", "rootcause", "fallback", "classify", "rows", "lean")
]


class BuildPyWithSchemas(build_py):
    def run(self) -> None:
        super().run()
        if not self.editable_mode:
            source = Path(__file__).resolve().parent / "schemas"
            shutil.copytree(source, Path(self.build_lib) / "correlator" / "schemas", dirs_exist_ok=True)


def compiled_modules() -> list:
    if os.environ.get("CORRELATOR_PURE_PYTHON") == "1":
        return []
    from mypyc.build import mypycify

    # the build environment holds only setuptools and mypy: the dependencies' types are unknown
    # there (Any), so the project's strict mypy settings (for development) are not read here
    extensions = mypycify(["--config-file=", "--ignore-missing-imports", *COMPILED], opt_level="3")
    for extension in extensions:
        extension.optional = True  # a failed compile leaves the plain module in use
    return extensions


def plain_line_scanner() -> list[Extension]:
    if os.environ.get("CORRELATOR_PURE_PYTHON") == "1":
        return []
    source = "correlator/processing/_plainlines.c"
    return [Extension("correlator.processing._plainlines", [source], extra_compile_args=["-O2"], optional=True)]


setup(cmdclass={"build_py": BuildPyWithSchemas}, ext_modules=compiled_modules() + plain_line_scanner())
