"""Where ``schemas/`` is: inside the installed package, else at the top of the source tree.

The repository keeps ``schemas/`` at its top level; ``setup.py`` copies it into the wheel
as ``correlator/schemas``, so an installed copy (the container image) finds its own.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent
SCHEMAS_DIR = _PACKAGE / "schemas" if (_PACKAGE / "schemas").is_dir() else _PACKAGE.parent / "schemas"
