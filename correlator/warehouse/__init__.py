"""ClickHouse: connection, schema migrations and batch writes (clickhouse-connect)."""
