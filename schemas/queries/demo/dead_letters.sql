SELECT topic, partition, offset, reason, substring(detail, 1, 60) AS detail
FROM ${database}.dead_letters
ORDER BY topic, partition, offset
