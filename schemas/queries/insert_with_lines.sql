-- One insert of a batch group: plain log lines the engine parses itself, and the rows built in Python.
-- A line comes as its text m, its topic t, partition p and offset o; the expressions that make its row
-- follow the lean path's contract (correlator.processing.lean.engine_columns). A row comes as its
-- columns. One INSERT, squashed into one block: one part, under one deduplication token. Its settings
-- are its own (a client's per-call settings cost the embedded engine a dozen SET statements).
INSERT INTO ${database}.${table} (${columns}) SETTINGS ${settings}
WITH JSONExtractKeysAndValuesRaw(m) AS kv, arrayFilter(x -> ${extra}, kv) AS extra
SELECT ${select}
FROM file(${lines}, 'JSONCompactEachRow', 'm String, t String, p Int32, o Int64')
UNION ALL
SELECT * FROM file(${rows}, 'JSONCompactEachRow', ${structure})
