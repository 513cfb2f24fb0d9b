-- benchmarks/trace_queries.py: agent runs of {spans_per_trace} spans each over a week. A run is an
-- invoke_agent root with, in turn, a chat call (with its HTTP request beneath it) and a tool call;
-- one run in ten fails in its last HTTP request (and so in the chat call above it), and one in fifty
-- loops: every tool call is lookup_order with the same arguments.
INSERT INTO ${database}.spans
    (ts, trace_id, span_id, parent_span_id, name, kind, duration_ms, status, service, operation, step, provider,
     request_model, response_model, model, input_tokens, output_tokens, finish_reasons, error_type, tool_name,
     tool_args, session_id, error_id, exception_types, exception_values, exception_frames, root_cause_type,
     root_cause_message, category, error_class, rule, rules_version, traceback, topic, partition, offset,
     record_index)
SELECT
    now64(6) - toIntervalMillisecond(intDiv(604800000, {traces:UInt64}) * ({traces:UInt64} - run))
        + toIntervalMillisecond(position * 200) AS ts,
    leftPad(lower(hex(cityHash64('trace', run))), 16, '0') || leftPad(lower(hex(cityHash64('trace2', run))), 16, '0'),
    leftPad(lower(hex(cityHash64('span', run, position))), 16, '0') AS span_id,
    multiIf(position = 0, '', role = 'http', leftPad(lower(hex(cityHash64('span', run, position - 1))), 16, '0'),
            leftPad(lower(hex(cityHash64('span', run, 0))), 16, '0')),
    multiIf(role = 'agent', 'invoke_agent support', role = 'llm', 'chat ' || model, role = 'http',
            'POST /v1/chat/completions', 'execute_tool ' || tool),
    if(role IN ('llm', 'http'), 'client', 'internal'),
    if(role = 'agent', {spans_per_trace:UInt64} * 200.0, 150.0 + position),
    if(failed, 'error', 'unset'),
    ['support-bot', 'summarizer', 'agent-runner'][run % 3 + 1],
    multiIf(role = 'agent', 'invoke_agent', role = 'llm', 'chat', role = 'tool', 'execute_tool', ''),
    multiIf(role = 'http', '', role),
    if(role = 'llm', 'openai', ''), if(role = 'llm', model, ''), if(role = 'llm', model, ''), if(role = 'llm', model, ''),
    if(role = 'llm', 400 + position, 0), if(role = 'llm', 80, 0), if(role = 'llm' AND NOT failed, ['stop'], []),
    if(failed, 'ConnectionError', ''),
    if(role = 'tool', tool, ''),
    if(role = 'tool', if(looping, '{"order": 42}', '{"q": ' || toString(position) || '}'), ''),
    'session-' || toString(run % 10000),
    if(failed, leftPad(lower(hex(cityHash64('trace', run))), 16, '0') || '-' || span_id, ''),
    if(failed, ['ConnectionError'], []), if(failed, ['Connection reset by peer'], []),
    if(failed, ['/srv/app/agent.py:answer'], []),
    if(failed, 'ConnectionError', ''), if(failed, 'Connection reset by peer', ''),
    if(failed, 'api_error', ''), if(failed, 'connection', ''), if(failed, 'code.connection', ''),
    if(failed, 'bench', ''), '',
    'otlp_spans', toInt32(run % 3), toInt64(intDiv(run, 3)), toUInt32(position)
FROM
(
    SELECT intDiv(number, {spans_per_trace:UInt64}) AS run, number % {spans_per_trace:UInt64} AS position,
           multiIf(position = 0, 'agent', position % 3 = 1, 'llm', position % 3 = 2, 'http', 'tool') AS role,
           ['gpt-4o', 'gpt-4o-mini', 'claude-sonnet-4', 'gemini-2.5-pro'][run % 4 + 1] AS model,
           run % 50 = 0 AS looping,
           if(looping, 'lookup_order', ['search', 'lookup_order', 'fetch_page', 'calculator'][position % 4 + 1]) AS tool,
           run % 10 = 0 AND position >= {spans_per_trace:UInt64} - 4 AND role IN ('llm', 'http') AS failed
    FROM numbers({traces:UInt64} * {spans_per_trace:UInt64})
)
