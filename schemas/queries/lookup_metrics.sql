-- correlator lookup: the usage-metrics row(s) of one error_id, each stored message once.
SELECT ts, model, provider, success, error, error_detail, duration_seconds, input_tokens, output_tokens,
       cost_usd, finish_reason, request_id, topic, partition, offset
FROM ${database}.usage_metrics
WHERE error_id = {error_id:String}
ORDER BY ts
LIMIT 1 BY topic, partition, offset
