-- the daemon's llm_runaway_sessions gauge: sessions whose spend since then runs away (session_costs)
SELECT count()
FROM ${database}.session_costs(since = {since:DateTime64(6)})
WHERE alert = 'runaway'
