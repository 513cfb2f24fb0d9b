"""SQL lives in ``schemas/``; this module reads it and fills in validated identifiers."""

from __future__ import annotations

import re
from functools import cache
from string import Template

from correlator.config import check_identifier
from correlator.schemas_dir import SCHEMAS_DIR


@cache
def _template(relative_path: str) -> Template:
    return Template((SCHEMAS_DIR / relative_path).read_text())


def render(relative_path: str, database: str, **values: int | str) -> str:
    """One SQL file with ``${database}`` and other ``${name}`` placeholders filled in."""
    return _template(relative_path).substitute(database=check_identifier(database), **values)


def statements(sql: str) -> list[str]:
    """Split a file into statements on semicolons that end a line."""
    parts = re.split(r";[ \t]*$", sql, flags=re.MULTILINE)
    return [part.strip() for part in parts if _has_code(part)]


def _has_code(part: str) -> bool:
    return any(line.strip() and not line.strip().startswith("--") for line in part.splitlines())
