-- Cluster mode (`correlator migrate --cluster NAME`): the table every query and insert names
-- is a Distributed table over the Replicated ${table}_local on every shard. It holds no data,
-- so it is re-created on every migrate, after the local tables have their newest columns.
-- Rows shard by ${sharding_key}: a batch (one topic-partition) lands whole on one shard, so a
-- retried insert meets its own deduplication token there.
CREATE OR REPLACE TABLE ${database}.${table} ON CLUSTER ${cluster}
AS ${database}.${table}_local
ENGINE = Distributed(${cluster}, ${database}, ${table}_local, ${sharding_key});
