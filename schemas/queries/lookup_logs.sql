-- correlator lookup: every log line of one error_id, with its exception chain (root cause first).
SELECT ts, service, level, logger, message, exception_types, exception_values, category, error_class, rule,
       rules_version, topic, partition, offset
FROM ${database}.log_events
WHERE error_id = {error_id:String}
ORDER BY ts
LIMIT 1 BY topic, partition, offset
