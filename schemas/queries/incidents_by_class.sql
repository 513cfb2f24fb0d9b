-- correlator incidents: failures since a time, by final label and model.
SELECT category, error_class, model, count() AS failures, sum(reclassified) AS reclassified,
       min(first_seen) AS since, max(first_seen) AS latest
FROM ${database}.errors
WHERE first_seen >= {since:DateTime64(6)}
GROUP BY category, error_class, model
ORDER BY failures DESC, category, error_class, model
