-- correlator incidents: calls, failures and the share still unknown since a time.
SELECT
    (SELECT count() FROM ${database}.usage_calls WHERE ts >= {since:DateTime64(6)}) AS calls,
    count() AS failures,
    countIf(error_class = 'unknown') AS still_unknown,
    if(failures = 0, 0, still_unknown / failures) AS unknown_share,
    sum(reclassified) AS reclassified
FROM ${database}.errors
WHERE first_seen >= {since:DateTime64(6)}
