"""Ships the top-level ``schemas/`` inside the wheel as ``correlator/schemas`` (see correlator/schemas_dir.py)."""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py


class BuildPyWithSchemas(build_py):
    def run(self) -> None:
        super().run()
        if not self.editable_mode:
            source = Path(__file__).resolve().parent / "schemas"
            shutil.copytree(source, Path(self.build_lib) / "correlator" / "schemas", dirs_exist_ok=True)


setup(cmdclass={"build_py": BuildPyWithSchemas})
