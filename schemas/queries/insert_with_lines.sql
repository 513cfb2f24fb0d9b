-- One insert of a batch group: rows built in Python and plain log lines the engine parses itself.
-- Each input row is either a built row (its columns as row_*, m empty) or a line (its text m, its
-- topic t, partition p and offset o); the expressions for a line follow the lean path's contract
-- (correlator.processing.lean.engine_columns). One insert, so one part and one deduplication token.
INSERT INTO ${database}.${table} (${columns})
WITH JSONExtractKeysAndValuesRaw(m) AS kv, arrayFilter(x -> ${extra}, kv) AS extra
SELECT ${select}
FROM file(${path}, 'JSONCompactEachRow', ${structure})
