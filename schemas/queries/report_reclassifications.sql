-- report: what the metrics rows said, and what the root cause says, since a time.
SELECT original_error, category, error_class, count() AS errors, sum(reclassified) AS reclassified
FROM ${database}.errors_window(since = {since:DateTime64(6)}, until = '2299-12-31 00:00:00')
WHERE has_metrics
GROUP BY original_error, category, error_class
ORDER BY errors DESC
