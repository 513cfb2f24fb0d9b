-- correlator incidents: calls since a time (usage rows and LLM spans: the `calls` view), each once.
SELECT count() AS calls
FROM ${database}.calls
WHERE ts >= {since:DateTime64(6)}
