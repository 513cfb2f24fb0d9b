-- correlator report: pass rate per 15-minute window, by scorer and model (the chart's lines).
SELECT window, concat(name, ' / ', model) AS scorer, sum(evaluated) AS evaluated, sum(passed) / evaluated AS pass_rate
FROM ${database}.eval_pass_rate(since = {since:DateTime64(6)})
GROUP BY window, scorer
ORDER BY window, scorer
