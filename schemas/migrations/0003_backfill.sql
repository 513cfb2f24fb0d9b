-- Where each backfill source got to: the next offset (Kafka) or line (file) still to load.
-- A checkpoint is written after the batch it covers is stored, so it is never ahead of the rows;
-- it applies only to a run over the same range start (range_start), so a new range starts afresh.

CREATE TABLE IF NOT EXISTS ${database}.backfill_checkpoints
(
    source      String,
    partition   Int32,
    range_start Int64,
    next_offset Int64,
    updated_at  DateTime64(6, 'UTC') DEFAULT now64(6)
)
ENGINE = ReplacingMergeTree(updated_at)
ORDER BY (source, partition, range_start);
