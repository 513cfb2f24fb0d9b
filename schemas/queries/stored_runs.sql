-- How far the rows stored for one topic-partition run on, unbroken, from a start offset.
-- The daemon resumes after that run: those messages were stored but their offsets not committed.
SELECT max(offset) AS last, uniqExact(offset) AS stored
FROM
(
    SELECT offset FROM ${database}.log_events
    WHERE topic = {topic:String} AND partition = {partition:Int32} AND offset >= {start:Int64}
    UNION ALL
    SELECT offset FROM ${database}.usage_metrics
    WHERE topic = {topic:String} AND partition = {partition:Int32} AND offset >= {start:Int64}
    UNION ALL
    SELECT offset FROM ${database}.spans
    WHERE topic = {topic:String} AND partition = {partition:Int32} AND offset >= {start:Int64}
    UNION ALL
    SELECT offset FROM ${database}.scores
    WHERE topic = {topic:String} AND partition = {partition:Int32} AND offset >= {start:Int64}
    UNION ALL
    SELECT offset FROM ${database}.dead_letter_log
    WHERE topic = {topic:String} AND partition = {partition:Int32} AND offset >= {start:Int64}
)
