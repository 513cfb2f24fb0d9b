-- Each chain link's frames ("filename:function", outermost first, newline-joined):
-- evidence for the rules (a tool-argument parser) and, later, the fingerprint of a failure.
ALTER TABLE ${database}.log_events
    ADD COLUMN IF NOT EXISTS exception_frames Array(String) CODEC(ZSTD(3)) AFTER exception_values;
