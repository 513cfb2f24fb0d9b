CREATE DATABASE IF NOT EXISTS ${database};

CREATE TABLE IF NOT EXISTS ${database}.schema_migrations
(
    version    String,
    checksum   String,
    applied_at DateTime('UTC') DEFAULT now()
)
ENGINE = MergeTree
ORDER BY version;
