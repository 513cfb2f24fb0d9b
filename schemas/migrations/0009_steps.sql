-- Steps, tool calls and time to first token (contract: "Steps, tool calls and content").
-- A log line that names a step (step or span_kind, tool_name) is a step of its trace like an
-- OpenTelemetry span; a usage row's ttft_ms and an LLM span's time to first token feed
-- model_health_1h. NULL: not given (a time of 0 would pull the percentiles down).

ALTER TABLE ${database}.log_events
    ADD COLUMN IF NOT EXISTS parent_span_id String DEFAULT '',
    ADD COLUMN IF NOT EXISTS step LowCardinality(String) DEFAULT '',
    ADD COLUMN IF NOT EXISTS tool_name LowCardinality(String) DEFAULT '',
    ADD COLUMN IF NOT EXISTS tool_args String DEFAULT '' CODEC(ZSTD(1)),
    ADD COLUMN IF NOT EXISTS tool_status LowCardinality(String) DEFAULT '',
    ADD COLUMN IF NOT EXISTS duration_ms Nullable(Float64);

ALTER TABLE ${database}.usage_metrics ADD COLUMN IF NOT EXISTS ttft_ms Nullable(Float64);

-- tool_status on a tool span: error when it failed, empty when its result was empty, else ok
ALTER TABLE ${database}.spans
    ADD COLUMN IF NOT EXISTS tool_status LowCardinality(String) DEFAULT '',
    ADD COLUMN IF NOT EXISTS ttft_ms Nullable(Float64);

-- a gen_ai.evaluation.result event of an OTLP message: which record of the message it came from
ALTER TABLE ${database}.scores ADD COLUMN IF NOT EXISTS record_index UInt32 DEFAULT 0;
