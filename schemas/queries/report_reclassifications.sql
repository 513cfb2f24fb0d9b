-- report: what the metrics rows said, and what the root cause says, since a time.
SELECT original_error, category, error_class, count() AS errors, sum(reclassified) AS reclassified
FROM ${database}.errors
WHERE has_metrics AND first_seen >= {since:DateTime64(6)}
GROUP BY original_error, category, error_class
ORDER BY errors DESC
