SELECT hour, model, service, cost_usd, baseline_hourly_cost_usd, ratio, alert
FROM ${database}.cost_anomalies(since = {since:DateTime64(6)})
ORDER BY hour DESC, model, service
