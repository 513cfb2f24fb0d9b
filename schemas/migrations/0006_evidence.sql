-- What each row's label rests on (correlator.processing.classify.Evidence): 'exception' (the
-- exception chain, by the rules file), 'learned' (the learned fallback's guess from the
-- chain, when no rule had evidence), 'finish_reason' (the call's finish reason),
-- 'content_check' (a content check of a call that returned), 'reported' (the event's own
-- short label: a metrics row's error, an error record's error_category) or 'none' (no label,
-- or unknown). The errors view weighs labels by it, never by a rule's name.
-- Rows stored before this migration take it from their rule's name, as it was then chosen:
-- learned.*, finish_reason.*, content.*, metrics.*, else a rule of the rules file (the chain).

ALTER TABLE ${database}.log_events ADD COLUMN IF NOT EXISTS evidence LowCardinality(String) DEFAULT if(error_class IN ('', 'unknown'), 'none',
    transform(splitByChar('.', rule)[1], ['learned', 'finish_reason', 'content', 'metrics'],
              ['learned', 'finish_reason', 'content_check', 'reported'], 'exception'))
    AFTER rule;

ALTER TABLE ${database}.usage_metrics ADD COLUMN IF NOT EXISTS evidence LowCardinality(String) DEFAULT if(error_class IN ('', 'unknown'), 'none',
    transform(splitByChar('.', rule)[1], ['learned', 'finish_reason', 'content', 'metrics'],
              ['learned', 'finish_reason', 'content_check', 'reported'], 'exception'))
    AFTER rule;

ALTER TABLE ${database}.spans ADD COLUMN IF NOT EXISTS evidence LowCardinality(String) DEFAULT if(error_class IN ('', 'unknown'), 'none',
    transform(splitByChar('.', rule)[1], ['learned', 'finish_reason', 'content', 'metrics'],
              ['learned', 'finish_reason', 'content_check', 'reported'], 'exception'))
    AFTER rule;
