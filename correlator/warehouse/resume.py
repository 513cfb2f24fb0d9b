"""Where each partition's stored rows run on past its committed offset: what a start resumes after."""

from __future__ import annotations

from collections.abc import Mapping

from clickhouse_connect.driver.client import Client

from correlator.warehouse.sql import render


def stored_runs(
    client: Client, database: str, starts: Mapping[tuple[str, int], int]
) -> dict[tuple[str, int], tuple[int, int]]:
    """Per ``(topic, partition)``: the last offset stored at or after its start, and how many distinct offsets are.

    A crash between an insert and its commit leaves such rows; the daemon resumes after
    them when they run on unbroken, counting the gaps transactions leave as unbroken.
    A partition with none is absent. Every partition in one query.
    """
    if not starts:
        return {}
    partitions = list(starts)
    result = client.query(
        render("queries/stored_runs.sql", database),
        parameters={"partitions": partitions, "starts": [starts[key] for key in partitions]},
    ).result_rows
    return {
        (str(topic), int(partition)): (int(last), int(stored)) for topic, partition, last, stored in result if stored
    }
