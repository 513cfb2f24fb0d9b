-- benchmarks/incident_queries.py: the calls' log lines; the last line of a failed call holds its traceback.
INSERT INTO ${database}.log_events
    (ts, service, level, logger, message, trace_id, span_id, error_id, model, exception_types, exception_values,
     exception_frames, root_cause_type, root_cause_message, category, error_class, rule, rules_version, traceback,
     topic, partition, offset)
SELECT
    now64(6) - toIntervalMillisecond(intDiv(604800000, {metrics:UInt64}) * ({metrics:UInt64} - call))
        - toIntervalMillisecond(({lines_per_call:UInt64} - line) * 10) AS ts,
    ['support-bot', 'summarizer', 'agent-runner'][call % 3 + 1],
    if(failed, 'error', 'info') AS level, 'app.llm',
    if(failed, 'LLM chat interaction failed', 'agent step ' || toString(line)),
    lower(hex(cityHash64('trace', call))) || lower(hex(cityHash64('trace2', call))),
    lower(hex(cityHash64('span', number))),
    if(failed, substring(lower(hex(cityHash64('error', call))), 1, 12), ''),
    ['gpt-4o', 'gpt-4o-mini', 'claude-sonnet-4', 'gemini-2.5-pro'][call % 4 + 1],
    if(failed, ['RateLimitError', 'ValueError'], []),
    if(failed, ['Error code: 429 - rate_limit_exceeded for request req_' || toString(call), 'LLM chat interaction failed.'], []),
    if(failed, ['/srv/app/llm.py:answer', '/srv/app/llm.py:answer'], []),
    if(failed, 'RateLimitError', ''), if(failed, 'Error code: 429 - rate_limit_exceeded for request req_' || toString(call), ''),
    if(failed, 'api_error', ''), if(failed, 'rate_limit', ''), if(failed, 'code.rate_limit', ''),
    if(failed, 'bench', ''), '',
    'app-logs', toInt32(number % 3), toInt64(intDiv(number, 3))
FROM
(
    SELECT number, intDiv(number, {lines_per_call:UInt64}) AS call, number % {lines_per_call:UInt64} AS line,
           call % 5 = 0 AND line = {lines_per_call:UInt64} - 1 AS failed
    FROM numbers({metrics:UInt64} * {lines_per_call:UInt64})
)
