-- An LLM span is a call (the `calls` view): what it cost and whose it was, where the span says so.
-- cost_usd: the instrumentation's own figure (gen_ai.usage.cost, Langfuse's cost_details total,
-- OpenInference's llm.cost.total, OpenLLMetry's gen_ai.usage.cost); NULL when the span gives none, as
-- correlator prices no tokens itself. user_id: user.id, enduser.id or langfuse.user.id.
ALTER TABLE ${database}.spans
    ADD COLUMN IF NOT EXISTS cost_usd Nullable(Float64),
    ADD COLUMN IF NOT EXISTS user_id String DEFAULT '';
