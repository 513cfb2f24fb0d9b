-- OpenTelemetry over Kafka: one message holds many spans or log records, so each row keeps
-- its record's index in the message beside the offset (topic, partition, offset, record_index
-- is exact provenance: resume and deduplication by message, views by record).

CREATE TABLE IF NOT EXISTS ${database}.spans
(
    ts                 DateTime64(6, 'UTC') CODEC(Delta(8), ZSTD(1)),  -- the span's start
    trace_id           String,
    span_id            String,
    parent_span_id     String,
    name               String,
    kind               LowCardinality(String),
    duration_ms        Float64,
    status             LowCardinality(String),
    status_message     String CODEC(ZSTD(1)),
    service            LowCardinality(String),
    -- GenAI semantic conventions, or OpenLLMetry's, OpenInference's and Langfuse's names for them
    operation          LowCardinality(String),
    -- the contract's step kinds: retrieval, prompt, llm, tool, parser, agent ('' when the span names none)
    step               LowCardinality(String),
    provider           LowCardinality(String),
    request_model      LowCardinality(String),
    response_model     LowCardinality(String),
    model              LowCardinality(String),
    input_tokens       UInt32,
    output_tokens      UInt32,
    finish_reasons     Array(LowCardinality(String)),
    error_type         LowCardinality(String),
    tool_name          LowCardinality(String),
    tool_args          String CODEC(ZSTD(1)),
    session_id         String,
    -- the failure's key: the application's error_id, else "{trace_id}-{span_id}"; empty when it did not fail
    error_id           String,
    exception_types    Array(String),
    exception_values   Array(String) CODEC(ZSTD(3)),
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
    record_index       UInt32,
    ingested_at        DateTime('UTC') DEFAULT now(),
    -- grouping as for log_events (0002_fingerprints.sql)
    root_cause_frame   String MATERIALIZED
        arrayLast(f -> NOT match(f, '(site|dist)-packages|/lib/python3|^<frozen|^<string>'),
                  splitByChar('\n', if(empty(exception_frames), '', exception_frames[1]))),
    message_template   String MATERIALIZED
        replaceRegexpAll(replaceRegexpAll(replaceRegexpAll(replaceRegexpAll(root_cause_message,
            '\'[^\']*\'|"[^"]*"', '<str>'),
            '\\b[0-9a-fA-F]{8,}\\b|\\b[0-9a-fA-F]{8}-[0-9a-fA-F-]{27}\\b', '<hex>'),
            '\\b[A-Za-z]+[-_][A-Za-z0-9]*[0-9][A-Za-z0-9-_]*\\b', '<id>'),
            '\\d+(?:\\.\\d+)?', '<n>'),
    fingerprint        String MATERIALIZED
        if(root_cause_type = '' AND root_cause_message = '', '',
           lower(hex(cityHash64(root_cause_type, message_template, root_cause_frame)))),
    INDEX idx_trace_id trace_id TYPE bloom_filter(0.001) GRANULARITY 1,
    INDEX idx_error_id error_id TYPE bloom_filter(0.001) GRANULARITY 1,
    INDEX idx_offset offset TYPE minmax GRANULARITY 4
)
ENGINE = MergeTree
PARTITION BY toDate(ts)
ORDER BY (service, ts)
TTL toDateTime(ts) + INTERVAL ${retention_days} DAY
SETTINGS ttl_only_drop_parts = 1, non_replicated_deduplication_window = 10000;

-- OTLP log records share log_events; rows from the JSON topics keep index 0
ALTER TABLE ${database}.log_events ADD COLUMN IF NOT EXISTS record_index UInt32 DEFAULT 0;
