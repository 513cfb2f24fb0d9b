-- Scores: quality signals (deterministic checks, LLM judges, reviewers), one row per message.
-- Append-only like the other raw tables: a score re-sent with the same score_id is a second
-- row, and the views take the latest sending at read time (argMax), never FINAL.
-- value holds NUMERIC values and BOOLEAN ones as 1/0; string_value a CATEGORICAL value.

CREATE TABLE IF NOT EXISTS ${database}.scores
(
    ts             DateTime64(6, 'UTC') CODEC(Delta(8), ZSTD(1)),
    score_id       String,
    trace_id       String,
    span_id        String,
    name           LowCardinality(String),
    source         LowCardinality(String),
    data_type      LowCardinality(String),
    value          Float64,
    string_value   String,
    label          LowCardinality(String),
    comment        String CODEC(ZSTD(1)),
    judge_model    LowCardinality(String),
    scorer_version LowCardinality(String),
    config_id      String,
    prompt_version LowCardinality(String),
    model          LowCardinality(String),
    service        LowCardinality(String),
    session_id     String,
    user_id        String,
    attributes     Map(LowCardinality(String), String) CODEC(ZSTD(1)),
    -- when the message was sent (Kafka's timestamp; 1970 for a file line): with the offset, which
    -- of two sendings of one score_id came last, whenever and however often they were loaded
    sent_at        DateTime64(3, 'UTC') CODEC(Delta(8), ZSTD(1)),
    topic          LowCardinality(String),
    partition      Int32,
    offset         Int64 CODEC(Delta(8), ZSTD(1)),
    ingested_at    DateTime('UTC') DEFAULT now(),
    INDEX idx_trace_id trace_id TYPE bloom_filter(0.001) GRANULARITY 1,
    INDEX idx_score_id score_id TYPE bloom_filter(0.001) GRANULARITY 1,
    INDEX idx_offset offset TYPE minmax GRANULARITY 4
)
ENGINE = MergeTree
PARTITION BY toDate(ts)
ORDER BY (name, ts)
TTL toDateTime(ts) + INTERVAL ${retention_days} DAY
SETTINGS ttl_only_drop_parts = 1, non_replicated_deduplication_window = 10000;
