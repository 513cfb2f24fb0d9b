-- Applied by `correlator migrate` when the configured retention differs from the tables'.
-- materialize_ttl_after_modify = 0: old parts age out on their own, no rewrite of history.
ALTER TABLE ${database}.log_events MODIFY TTL toDateTime(ts) + INTERVAL ${retention_days} DAY;
ALTER TABLE ${database}.usage_metrics MODIFY TTL toDateTime(ts) + INTERVAL ${retention_days} DAY;
ALTER TABLE ${database}.dead_letter_log MODIFY TTL toDateTime(received_at) + INTERVAL ${retention_days} DAY;
ALTER TABLE ${database}.scores MODIFY TTL toDateTime(ts) + INTERVAL ${retention_days} DAY;
ALTER TABLE ${database}.content_checks MODIFY TTL toDateTime(ts) + INTERVAL ${retention_days} DAY;
