-- agent_loops groups a window's tool calls by trace, tool and arguments: at 10 million spans
-- hashing those three strings per row at read time made a day's answer 0.27 s on a quiet machine
-- and 4.7 s on a loaded one, against 0.07 s and 0.85 s this way (benchmarks/trace_queries.py),
-- so each tool call carries the hash as a number, computed once at insert. Parts written before
-- this migration compute it when read: the same answers, as slow as before, until TTL drops them.
ALTER TABLE ${database}.spans
    ADD COLUMN IF NOT EXISTS tool_call UInt64 MATERIALIZED
        if(tool_name = '', 0, cityHash64(trace_id, tool_name, tool_args));
