-- correlator incidents: the newest example of each final label.
SELECT category, error_class, error_id, model, first_seen, root_cause_type,
       substring(replaceAll(root_cause_message, '\n', ' '), 1, 120) AS root_cause
FROM ${database}.errors
WHERE first_seen >= {since:DateTime64(6)}
ORDER BY first_seen DESC
LIMIT 1 BY category, error_class
