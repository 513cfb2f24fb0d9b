-- correlator incidents and report, quality: the newest failed safety scores since a time.
SELECT ts, name, source, model, trace_id, span_id, label, comment
FROM ${database}.safety_failures(since = {since:DateTime64(6)})
LIMIT 20
