-- Raw tables: one row per decoded message, append-only, with its provenance.
-- ORDER BY holds only immutable values; correlation happens in views at read time.
-- ${database} and ${retention_days} are filled in by `correlator migrate` from validated settings.

CREATE TABLE IF NOT EXISTS ${database}.log_events
(
    ts                 DateTime64(6, 'UTC') CODEC(Delta(8), ZSTD(1)),
    service            LowCardinality(String),
    level              LowCardinality(String),
    logger             LowCardinality(String),
    message            String CODEC(ZSTD(1)),
    trace_id           String,
    span_id            String,
    error_id           String,
    model              LowCardinality(String),
    -- exception chain as parallel arrays, root cause first, outermost last (Sentry's order)
    exception_types    Array(String),
    exception_values   Array(String) CODEC(ZSTD(3)),
    -- each link's frames, "filename:function" outermost first, newline-joined: rule evidence and fingerprint
    exception_frames   Array(String) CODEC(ZSTD(3)),
    root_cause_type    String,
    root_cause_message String CODEC(ZSTD(1)),
    category           LowCardinality(String),
    error_class        LowCardinality(String),
    rule               LowCardinality(String),
    rules_version      LowCardinality(String),
    traceback          String CODEC(ZSTD(3)),
    attributes         Map(LowCardinality(String), String) CODEC(ZSTD(1)),
    topic              LowCardinality(String),
    partition          Int32,
    offset             Int64 CODEC(Delta(8), ZSTD(1)),
    ingested_at        DateTime('UTC') DEFAULT now(),
    INDEX idx_trace_id trace_id TYPE bloom_filter(0.001) GRANULARITY 1,
    INDEX idx_error_id error_id TYPE bloom_filter(0.001) GRANULARITY 1,
    INDEX idx_offset offset TYPE minmax GRANULARITY 4
)
ENGINE = MergeTree
PARTITION BY toDate(ts)
ORDER BY (service, level, ts)
TTL toDateTime(ts) + INTERVAL ${retention_days} DAY
SETTINGS ttl_only_drop_parts = 1, non_replicated_deduplication_window = 10000;

CREATE TABLE IF NOT EXISTS ${database}.usage_metrics
(
    ts                 DateTime64(6, 'UTC') CODEC(Delta(8), ZSTD(1)),
    model              LowCardinality(String),
    provider           LowCardinality(String),
    service            LowCardinality(String),
    success            Bool,
    duration_seconds   Float64,
    error              LowCardinality(String),
    error_id           String,
    error_detail       String CODEC(ZSTD(1)),
    trace_id           String,
    span_id            String,
    request_id         String,
    input_tokens       UInt32,
    output_tokens      UInt32,
    cost_usd           Float64,
    finish_reason      LowCardinality(String),
    prompt_version     LowCardinality(String),
    user_id            String,
    session_id         String,
    category           LowCardinality(String),
    error_class        LowCardinality(String),
    rule               LowCardinality(String),
    rules_version      LowCardinality(String),
    attributes         Map(LowCardinality(String), String) CODEC(ZSTD(1)),
    topic              LowCardinality(String),
    partition          Int32,
    offset             Int64 CODEC(Delta(8), ZSTD(1)),
    ingested_at        DateTime('UTC') DEFAULT now(),
    INDEX idx_trace_id trace_id TYPE bloom_filter(0.001) GRANULARITY 1,
    INDEX idx_error_id error_id TYPE bloom_filter(0.001) GRANULARITY 1,
    INDEX idx_offset offset TYPE minmax GRANULARITY 4
)
ENGINE = MergeTree
PARTITION BY toDate(ts)
ORDER BY (model, ts)
TTL toDateTime(ts) + INTERVAL ${retention_days} DAY
SETTINGS ttl_only_drop_parts = 1, non_replicated_deduplication_window = 10000;

CREATE TABLE IF NOT EXISTS ${database}.dead_letter_log
(
    received_at DateTime64(3, 'UTC') CODEC(Delta(8), ZSTD(1)),
    topic       LowCardinality(String),
    partition   Int32,
    offset      Int64,
    reason      LowCardinality(String),
    detail      String,
    raw         String CODEC(ZSTD(3)),
    INDEX idx_offset offset TYPE minmax GRANULARITY 4
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(received_at)
ORDER BY (topic, partition, offset)
TTL toDateTime(received_at) + INTERVAL ${retention_days} DAY
SETTINGS ttl_only_drop_parts = 1, non_replicated_deduplication_window = 10000;
