-- report: latency percentiles and cost per hour by model.
SELECT hour, model, calls, error_rate, latency_p50, latency_p95, latency_p99, cost_usd
FROM ${database}.model_health_1h
WHERE hour >= toStartOfHour({since:DateTime64(6)})
ORDER BY hour, model
