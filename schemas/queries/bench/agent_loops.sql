-- benchmarks/trace_queries.py: the traces that called one tool with the same arguments three times or more.
SELECT trace_id, tool_name, tool_args, calls, session_id
FROM ${database}.agent_loops(since = {since:DateTime64(6)})
