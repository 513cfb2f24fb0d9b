"""SQL lives in ``schemas/``; this module reads it and fills in validated identifiers."""

from __future__ import annotations

import re
from functools import cache
from string import Template

from correlator.errors import ConfigurationError
from correlator.schemas_dir import SCHEMAS_DIR

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")


def check_identifier(name: str) -> str:
    """Database names are spliced into DDL, so only plain identifiers are accepted."""
    if not _IDENTIFIER.match(name):
        raise ConfigurationError(f"{name!r} is not a valid ClickHouse database name (letters, digits, _)")
    return name


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
