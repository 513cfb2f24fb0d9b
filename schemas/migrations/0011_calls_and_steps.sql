-- An LLM span is a call (the `calls` view): what it cost and whose it was, where the span says so.
-- cost_usd: the instrumentation's own figure (gen_ai.usage.cost, Langfuse's cost_details total,
-- OpenInference's llm.cost.total, OpenLLMetry's gen_ai.usage.cost); NULL when the span gives none, as
-- correlator prices no tokens itself. user_id: user.id, enduser.id or langfuse.user.id.
ALTER TABLE ${database}.spans
    ADD COLUMN IF NOT EXISTS cost_usd Nullable(Float64),
    ADD COLUMN IF NOT EXISTS user_id String DEFAULT '';

-- agent_loops counts structlog tool steps by the number spans carry (0010_spans_index.sql: a hash of trace,
-- tool and arguments), stored once at insert here too: folding every log step of the window first (the
-- `steps` view) to hash it at read time made a day's answer at 10 million spans and 2 million log steps
-- take (benchmarks/trace_queries.py) what README's "Measured figures" give. A line with a tool_name is one
-- call of its span: the emitter writes one line per tool call, with its arguments.
ALTER TABLE ${database}.log_events
    ADD COLUMN IF NOT EXISTS tool_call UInt64 MATERIALIZED
        if(tool_name = '', 0, cityHash64(trace_id, tool_name, tool_args));
