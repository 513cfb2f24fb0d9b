-- Stored failed calls, with what their label was derived from.
SELECT topic, partition, offset, error_detail, finish_reason, error, category, error_class, rule, evidence
FROM ${database}.usage_metrics
WHERE NOT success AND ts >= {since:DateTime64(6)} AND ts < {until:DateTime64(6)}
