-- The LLM spans of a dataset's traces (calls recorded by OpenTelemetry instrumentation), each stored
-- span once, in time order; the dataset reads each as a call where no usage row reports it.
SELECT ts, trace_id, span_id, error_id, model, provider, finish_reasons, rules_version, attributes
FROM ${database}.spans
WHERE trace_id IN {traces:Array(String)} AND step = 'llm'
ORDER BY trace_id, ts, topic, partition, offset, record_index
LIMIT 1 BY topic, partition, offset, record_index
