-- correlator incidents and report, quality: each scorer's pass rate by model since a time, lowest first.
SELECT name, model, sum(evaluated) AS evaluated, sum(passed) AS passed, passed / evaluated AS pass_rate,
       any(threshold) AS threshold
FROM ${database}.eval_pass_rate(since = {since:DateTime64(6)})
GROUP BY name, model
ORDER BY pass_rate, name, model
LIMIT 50
