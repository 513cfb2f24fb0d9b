-- correlator trace: the timeline of one trace.
SELECT ts, kind, service, status, model, error_id, span_id, category, error_class, root_cause_type,
       substring(replaceAll(if(root_cause_message != '', root_cause_message, message), '\n', ' '), 1, 160) AS detail,
       duration_seconds, input_tokens, output_tokens, cost_usd
FROM ${database}.trace_timeline(trace_id = {trace_id:String})
