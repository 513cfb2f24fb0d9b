-- correlator lookup: the correlated failure, its final label and the rule that chose it.
SELECT error_id, trace_id, first_seen, service, model, original_error, category, error_class,
       reclassified, root_cause_type, root_cause_message, rule, log_lines, duration_seconds, cost_usd
FROM ${database}.errors
WHERE error_id = {error_id:String}
