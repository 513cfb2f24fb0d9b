-- correlator incidents and report, quality: score_drift's alerts since a time, one row per scorer, model,
-- prompt_version and alert, with its latest window's figures and how many windows raised it.
SELECT name, model, prompt_version, alert, count() AS windows, max(window) AS latest,
       argMax(mean, window) AS mean, argMax(baseline, window) AS baseline,
       argMax(pass_rate, window) AS pass_rate, argMax(baseline_pass_rate, window) AS baseline_pass_rate,
       argMax(shortfall, window) AS shortfall
FROM ${database}.score_drift(since = {since:DateTime64(6)})
GROUP BY name, model, prompt_version, alert
ORDER BY latest DESC, name, model, prompt_version, alert
LIMIT 50
