-- The content checks' results, one row per checked call: the `code` scores' lean store. Migration
-- 0012's view wrote each check as a row of `scores`, whose two bloom filters, attributes map and
-- sort by name made those rows most of what the checks cost the daemon's CPU per event
-- (benchmarks/content_checks_cost.py); this table holds only what a check score says, its checks
-- side by side in arrays, and no index. The `check_scores` view shows them as rows of `scores`'
-- columns, and the score views read both (views/0004_scores.sql). Filled by the engine in the
-- calls' own insert (views/0015_content_checks.sql).
CREATE TABLE IF NOT EXISTS ${database}.content_checks
(
    ts             DateTime64(6, 'UTC') CODEC(Delta(8), ZSTD(1)),
    trace_id       String,
    span_id        String,
    -- the checks that applied, in the daemon's order, and each one's verdict and detail
    names          Array(LowCardinality(String)),
    passed         Array(Bool),
    details        Array(String),
    scorer_version LowCardinality(String),
    prompt_version LowCardinality(String),
    model          LowCardinality(String),
    service        LowCardinality(String),
    session_id     String,
    user_id        String,
    -- the call's provenance: with a check's name, its score's id
    topic          LowCardinality(String),
    partition      Int32,
    offset         Int64 CODEC(Delta(8), ZSTD(1))
)
ENGINE = MergeTree
PARTITION BY toDate(ts)
ORDER BY ts
TTL toDateTime(ts) + INTERVAL ${retention_days} DAY
SETTINGS ttl_only_drop_parts = 1, non_replicated_deduplication_window = 10000;
