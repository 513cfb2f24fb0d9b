-- The LLM calls of a dataset's traces, each stored message once, in time order.
SELECT ts, trace_id, span_id, error_id, success, model, provider, prompt_version, finish_reason, rules_version,
       attributes
FROM ${database}.usage_metrics
WHERE trace_id IN {traces:Array(String)}
ORDER BY trace_id, ts, topic, partition, offset
LIMIT 1 BY topic, partition, offset
