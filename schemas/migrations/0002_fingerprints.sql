-- Sentry-style grouping, computed once at insert: the root cause's innermost in-app frame,
-- its message with quoted values, hex ids, other ids and numbers normalised away, and a
-- hash of the three. Parts written before this migration compute them when read.

ALTER TABLE ${database}.log_events
    ADD COLUMN IF NOT EXISTS root_cause_frame String MATERIALIZED
        arrayLast(f -> NOT match(f, '(site|dist)-packages|/lib/python3|^<frozen|^<string>'),
                  splitByChar('\n', if(empty(exception_frames), '', exception_frames[1]))),
    ADD COLUMN IF NOT EXISTS message_template String MATERIALIZED
        replaceRegexpAll(replaceRegexpAll(replaceRegexpAll(replaceRegexpAll(root_cause_message,
            '\'[^\']*\'|"[^"]*"', '<str>'),
            '\\b[0-9a-fA-F]{8,}\\b|\\b[0-9a-fA-F]{8}-[0-9a-fA-F-]{27}\\b', '<hex>'),
            '\\b[A-Za-z]+[-_][A-Za-z0-9]*[0-9][A-Za-z0-9-_]*\\b', '<id>'),
            '\\d+(?:\\.\\d+)?', '<n>'),
    ADD COLUMN IF NOT EXISTS fingerprint String MATERIALIZED
        if(root_cause_type = '' AND root_cause_message = '', '',
           lower(hex(cityHash64(root_cause_type, message_template, root_cause_frame))));

ALTER TABLE ${database}.usage_metrics
    ADD COLUMN IF NOT EXISTS message_template String MATERIALIZED
        replaceRegexpAll(replaceRegexpAll(replaceRegexpAll(replaceRegexpAll(error_detail,
            '\'[^\']*\'|"[^"]*"', '<str>'),
            '\\b[0-9a-fA-F]{8,}\\b|\\b[0-9a-fA-F]{8}-[0-9a-fA-F-]{27}\\b', '<hex>'),
            '\\b[A-Za-z]+[-_][A-Za-z0-9]*[0-9][A-Za-z0-9-_]*\\b', '<id>'),
            '\\d+(?:\\.\\d+)?', '<n>'),
    ADD COLUMN IF NOT EXISTS fingerprint String MATERIALIZED
        if(success OR error_detail = '', '', lower(hex(cityHash64('', message_template, ''))));
