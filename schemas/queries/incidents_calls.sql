-- correlator incidents: calls since a time, each stored message once.
SELECT uniqExact(topic, partition, offset) AS calls
FROM ${database}.usage_metrics
WHERE ts >= {since:DateTime64(6)}
