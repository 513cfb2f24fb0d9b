-- benchmarks/trace_queries.py: structlog agent runs of {steps_per_trace} log lines each over a week, beside the
-- spans: an agent line, then tool steps (span_id, parent_span_id, step 'tool', tool_name, tool_args as sorted-key
-- JSON, tool_status, duration_ms), as the emitter writes them; one run in fifty loops on lookup_order with the
-- same arguments, one in ten ends with a failed tool call.
INSERT INTO ${database}.log_events
    (ts, service, level, logger, message, trace_id, span_id, error_id, model, exception_types, exception_values,
     exception_frames, root_cause_type, root_cause_message, category, error_class, rule, rules_version, traceback,
     attributes, parent_span_id, step, tool_name, tool_args, tool_status, duration_ms, topic, partition, offset)
SELECT
    now64(6) - toIntervalMillisecond(intDiv(604800000, {log_traces:UInt64}) * ({log_traces:UInt64} - run))
        + toIntervalMillisecond(position * 200) AS ts,
    ['support-bot', 'summarizer', 'agent-runner'][run % 3 + 1],
    if(failed, 'error', 'info'), 'agent',
    if(position = 0, 'invoke_agent support', 'execute_tool ' || tool),
    leftPad(lower(hex(cityHash64('log-trace', run))), 16, '0') || leftPad(lower(hex(cityHash64('log-trace2', run))), 16, '0'),
    leftPad(lower(hex(cityHash64('log-span', run, position))), 16, '0'),
    if(failed, lower(hex(cityHash64('log-error', run))), ''), '',
    if(failed, ['ConnectionError'], []), if(failed, ['Connection reset by peer'], []),
    if(failed, ['/srv/app/tools.py:call'], []),
    if(failed, 'ConnectionError', ''), if(failed, 'Connection reset by peer', ''),
    if(failed, 'api_error', ''), if(failed, 'connection', ''), if(failed, 'code.connection', ''),
    if(failed, 'bench', ''), '',
    map('session_id', 'log-session-' || toString(run % 10000)),
    if(position = 0, '', leftPad(lower(hex(cityHash64('log-span', run, 0))), 16, '0')),
    if(position = 0, 'agent', 'tool'),
    if(position = 0, '', tool),
    if(position = 0, '', if(looping, '{"order":42}', '{"q":' || toString(position) || '}')),
    multiIf(position = 0, '', failed, 'error', 'ok'),
    if(position = 0, {steps_per_trace:UInt64} * 200.0, 40.0 + position),
    'app-logs', toInt32(run % 3), toInt64(number)
FROM
(
    SELECT number, intDiv(number, {steps_per_trace:UInt64}) AS run, number % {steps_per_trace:UInt64} AS position,
           run % 50 = 0 AS looping,
           if(looping, 'lookup_order', ['search', 'lookup_order', 'fetch_page', 'calculator'][position % 4 + 1]) AS tool,
           run % 10 = 0 AND position = {steps_per_trace:UInt64} - 1 AS failed
    FROM numbers({log_traces:UInt64} * {steps_per_trace:UInt64})
)
