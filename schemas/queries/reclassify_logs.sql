-- Stored log lines that carry a label, with what the label was derived from (a text traceback's source lines
-- are read again from `traceback`).
SELECT topic, partition, offset, exception_types, exception_values, exception_frames, traceback, level,
       attributes['error_category'] AS error_category,
       attributes['finish_reason'] AS finish_reason, category, error_class, rule, evidence
FROM ${database}.log_events
WHERE rule != '' AND ts >= {since:DateTime64(6)} AND ts < {until:DateTime64(6)}
