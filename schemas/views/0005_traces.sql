-- Traces' steps, from the spans table (OpenTelemetry over Kafka). A span delivered twice
-- (re-exported, or re-read after a crash) is one step: LIMIT 1 BY its trace and span id.

-- SELECT * FROM trace_spans(trace_id = '...'): the trace as a tree, each parent before its
-- children; `failed` marks failures, `first_failure` the earliest of the innermost ones (a
-- failing span none of whose children failed: where the walk down the tree stops).
CREATE OR REPLACE VIEW ${database}.trace_spans AS
WITH RECURSIVE
    trace AS (
        SELECT span_id, parent_span_id, step, name, ts AS start, duration_ms, status, tool_name, service, model,
               error_id, error_class, root_cause_type, root_cause_message, toUInt8(error_id != '') AS failed
        FROM ${database}.spans
        WHERE trace_id = {trace_id:String}
        ORDER BY ts
        LIMIT 1 BY span_id
    ),
    tree AS (
        SELECT *, toUInt32(0) AS depth, [toUnixTimestamp64Micro(start)] AS path
        FROM trace
        WHERE parent_span_id = '' OR parent_span_id NOT IN (SELECT span_id FROM trace)
        UNION ALL
        SELECT child.*, tree.depth + 1, arrayPushBack(tree.path, toUnixTimestamp64Micro(child.start))
        FROM trace AS child
        INNER JOIN tree ON child.parent_span_id = tree.span_id
        WHERE tree.depth < 256
    )
SELECT
    span_id, parent_span_id, depth, step, name, start, duration_ms, status, tool_name, service, model,
    failed, toUInt8(innermost AND start = min(if(innermost, start, toDateTime64('2299-12-31', 6, 'UTC'))) OVER ())
        AS first_failure,
    error_id, error_class, root_cause_type, root_cause_message
FROM
(
    SELECT *, failed AND span_id NOT IN (SELECT parent_span_id FROM trace WHERE failed) AS innermost
    FROM tree
)
ORDER BY path;

-- SELECT * FROM agent_loops(since = '...'): traces in which one tool was called with the same
-- arguments three times or more since then (openlit's threshold).
CREATE OR REPLACE VIEW ${database}.agent_loops AS
SELECT
    trace_id, tool_name, tool_args, count() AS calls, max(session_id) AS session_id, max(service) AS service,
    min(ts) AS first_call, max(ts) AS last_call
FROM
(
    SELECT trace_id, span_id, tool_name, tool_args, session_id, service, ts
    FROM ${database}.spans
    WHERE ts >= {since:DateTime64(6)} AND tool_name != ''
    LIMIT 1 BY trace_id, span_id
)
GROUP BY trace_id, tool_name, tool_args
HAVING calls >= 3
ORDER BY calls DESC, last_call DESC;
