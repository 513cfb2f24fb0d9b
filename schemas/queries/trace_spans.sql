-- correlator trace: the trace's steps as a tree (each parent before its children, depth beside it).
SELECT span_id, parent_span_id, depth, step, name, start, duration_ms, status, tool_name, service, model,
       failed, first_failure, error_id, error_class, root_cause_type,
       substring(replaceAll(root_cause_message, '\n', ' '), 1, 160) AS root_cause_message
FROM ${database}.trace_spans(trace_id = {trace_id:String})
