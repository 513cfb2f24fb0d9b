SELECT window, model, calls, errors, error_rate, baseline_rate, alert
FROM ${database}.error_spikes(since = {since:DateTime64(6)})
ORDER BY window DESC, model
