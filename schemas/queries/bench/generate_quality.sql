-- benchmarks/review_queries.py: a week of quality signals beside the incident benchmark's calls: one judge
-- score per call (one in ten under the pass threshold), a content failure in one call in a hundred (its
-- output, response format and messages on the row), and {reviews:UInt64} human verdicts, half of them fails.
INSERT INTO ${database}.scores
    (ts, score_id, trace_id, span_id, name, source, data_type, value, label, judge_model, model, sent_at, topic,
     partition, offset)
SELECT
    now64(6) - toIntervalMillisecond(intDiv(604800000, {metrics:UInt64}) * ({metrics:UInt64} - number)) AS ts,
    'judge-' || toString(number), lower(hex(cityHash64('trace', number))) || lower(hex(cityHash64('trace2', number))),
    '', 'groundedness', 'judge', 'NUMERIC',
    if(number % 10 = 3, 0.3 + (cityHash64('low', number) % 40) / 100, 0.8 + (cityHash64('ok', number) % 20) / 100),
    '', 'gpt-4o-mini', '', ts, 'llm-scores', toInt32(number % 3), toInt64(intDiv(number, 3))
FROM numbers({metrics:UInt64});

INSERT INTO ${database}.usage_metrics
    (ts, model, provider, service, success, duration_seconds, error_id, trace_id, span_id, finish_reason,
     category, error_class, rule, rules_version, attributes, topic, partition, offset)
SELECT
    now64(6) - toIntervalMillisecond(intDiv(604800000, {metrics:UInt64}) * ({metrics:UInt64} - number)) AS ts,
    'gpt-4o', 'bench', 'support-bot', false, 1.2, 'content:usage-metrics:9:' || toString(number),
    lower(hex(cityHash64('trace', number))) || lower(hex(cityHash64('trace2', number))),
    lower(hex(cityHash64('span', number))), 'stop', 'parsing_error', 'invalid_json', 'content.invalid_json', 'bench',
    map('content_failure', 'content.invalid_json', 'response_format', 'json', 'output', '{"answer": "the refu',
        'messages', '[{"role":"user","content":"Refund?"}]', 'temperature', '0.2'),
    'usage-metrics', toInt32(9), toInt64(number)
FROM numbers({metrics:UInt64})
WHERE number % 100 = 7;

INSERT INTO ${database}.scores
    (ts, score_id, trace_id, span_id, name, source, data_type, value, label, comment, sent_at, topic, partition,
     offset)
SELECT
    now64(6) - toIntervalSecond(number * 60) AS ts, 'review:' || trace_id || ':',
    lower(hex(cityHash64('trace', call))) || lower(hex(cityHash64('trace2', call))) AS trace_id, '', 'review',
    'human', 'BOOLEAN', number % 2, if(number % 2 = 1, 'pass', 'stale_policy_retrieval'), 'quotes an old policy', ts,
    'llm-scores', toInt32(9), toInt64(number)
FROM (SELECT number, number * 997 % {metrics:UInt64} AS call FROM numbers({reviews:UInt64}));
