"""The least-privilege users in ``schemas/grants.sql``: valid ClickHouse, and no more than they need.

The embedded engine has no user directory (CREATE USER is refused: ACCESS_DENIED), so the
statements are checked by ClickHouse's own parser (EXPLAIN AST), not executed; that the
daemon runs under these grants needs a ClickHouse server, which these machines lack.
"""

from __future__ import annotations

import hashlib
import re

from clickhouse_connect.driver.client import Client

from correlator.warehouse.sql import render, statements


def _grants(database: str) -> list[str]:
    digest = hashlib.sha256(b"example").hexdigest()
    sql = render("grants.sql", database, daemon_password_sha256=digest, reader_password_sha256=digest)
    return statements(sql)


def test_grant_statements_parse_as_clickhouse_sql(warehouse: Client):
    found = _grants("correlator")
    assert len(found) == 4
    for statement in found:
        [first, *_] = warehouse.query(f"EXPLAIN AST {statement}").result_rows
        assert first[0].startswith(("CreateUserQuery", "GrantQuery")), statement


def test_the_daemon_may_only_insert_and_select_and_the_reader_only_select_in_its_database():
    grants = {
        user: (privileges, scope)
        for privileges, scope, user in (
            re.fullmatch(r"GRANT (.+) ON (\S+) TO (\w+)", statement).groups()  # type: ignore[union-attr]
            for statement in _grants("ops")
            if statement.startswith("GRANT")
        )
    }
    assert grants == {"correlator_daemon": ("SELECT, INSERT", "ops.*"), "correlator_reader": ("SELECT", "ops.*")}
