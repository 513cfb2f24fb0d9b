-- One explained example per final label.
SELECT error_class, error_id, original_error AS metrics_said, root_cause_type,
       substring(replaceAll(root_cause_message, '\n', ' '), 1, 48) AS root_cause
FROM ${database}.errors
WHERE has_metrics
ORDER BY error_class, first_seen
LIMIT 1 BY error_class
