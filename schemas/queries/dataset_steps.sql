-- The log lines of a dataset's traces that carry a step's inputs: the rendered prompt or messages,
-- the retrieved documents' ids, a tool's arguments; each stored message once, in time order.
SELECT trace_id, span_id, attributes, tool_name, tool_args
FROM ${database}.log_events
WHERE trace_id IN {traces:Array(String)}
  AND (mapContains(attributes, 'messages') OR mapContains(attributes, 'prompt')
       OR mapContains(attributes, 'document_ids') OR tool_args != '')
ORDER BY trace_id, ts, topic, partition, offset
LIMIT 1 BY topic, partition, offset
