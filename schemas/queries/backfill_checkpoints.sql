-- The newest checkpoint of each source-partition for the given range starts.
SELECT source, partition, range_start, argMax(next_offset, updated_at) AS next_offset
FROM ${database}.backfill_checkpoints
WHERE source IN {sources:Array(String)}
GROUP BY source, partition, range_start
