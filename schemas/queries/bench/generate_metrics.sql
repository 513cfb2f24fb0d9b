-- benchmarks/incident_queries.py: a week of calls ending now; one in five a masked failure.
INSERT INTO ${database}.usage_metrics
    (ts, model, provider, service, success, duration_seconds, error, error_id, trace_id, input_tokens,
     output_tokens, cost_usd, finish_reason, topic, partition, offset)
SELECT
    now64(6) - toIntervalMillisecond(intDiv(604800000, {metrics:UInt64}) * ({metrics:UInt64} - number)) AS ts,
    ['gpt-4o', 'gpt-4o-mini', 'claude-sonnet-4', 'gemini-2.5-pro'][number % 4 + 1] AS model,
    'bench', ['support-bot', 'summarizer', 'agent-runner'][number % 3 + 1],
    number % 5 != 0 AS success,
    0.2 + (cityHash64(number) % 4000) / 1000,
    if(success, '', 'unknown'),
    if(success, '', substring(lower(hex(cityHash64('error', number))), 1, 12)),
    lower(hex(cityHash64('trace', number))) || lower(hex(cityHash64('trace2', number))),
    200 + cityHash64(number) % 3000, if(success, 20 + cityHash64(number) % 700, 0),
    if(success, (cityHash64(number) % 5000) / 100000, 0), if(success, 'stop', ''),
    'usage-metrics', toInt32(number % 3), toInt64(intDiv(number, 3))
FROM numbers({metrics:UInt64})
