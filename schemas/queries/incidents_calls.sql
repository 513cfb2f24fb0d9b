-- correlator incidents: calls since a time (usage rows and LLM spans: the `calls` view), each once.
SELECT count() AS calls
FROM ${database}.calls_since(since = {since:DateTime64(6)})
