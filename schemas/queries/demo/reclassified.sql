-- What the metrics rows said, and what correlator concluded from the correlated log lines.
SELECT original_error AS metrics_said, category, error_class, errors, reclassified
FROM ${database}.reclassifications
ORDER BY errors DESC, error_class
