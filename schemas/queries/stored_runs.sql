-- How far the rows stored for each topic-partition run on, unbroken, from its start offset (its commit).
-- The daemon resumes after such a run: those messages were stored but their offsets not committed.
-- One query for every partition of an assignment, so a start's round trips do not grow with them.
SELECT topic, partition, max(offset) AS last, uniqExact(offset) AS stored
FROM
(
    SELECT topic, partition, offset FROM ${database}.log_events WHERE has({partitions:Array(Tuple(String, Int32))}, (topic, partition))
    UNION ALL
    SELECT topic, partition, offset FROM ${database}.usage_metrics WHERE has({partitions:Array(Tuple(String, Int32))}, (topic, partition))
    UNION ALL
    SELECT topic, partition, offset FROM ${database}.spans WHERE has({partitions:Array(Tuple(String, Int32))}, (topic, partition))
    UNION ALL
    SELECT topic, partition, offset FROM ${database}.scores WHERE has({partitions:Array(Tuple(String, Int32))}, (topic, partition))
    UNION ALL
    SELECT topic, partition, offset FROM ${database}.dead_letter_log WHERE has({partitions:Array(Tuple(String, Int32))}, (topic, partition))
)
WHERE offset >= {starts:Array(Int64)}[indexOf({partitions:Array(Tuple(String, Int32))}, (topic, partition))]
GROUP BY topic, partition
