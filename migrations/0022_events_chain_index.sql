-- Owner: store. The chainer (events_chain, 0020) looks for unchained events
-- twice a call: "is there any?" and the work list, lowest id first. Both
-- are meant to read the partial index events_unchained, a few pages.
-- Statistics taken while the log was mostly unchained (a bulk load, a
-- backlog, before autovacuum's next ANALYZE) made the planner choose a
-- sequential scan of the whole event log for both, on every call, several
-- times a second. The function now plans with sequential scans disabled,
-- so both queries take the index whatever the statistics say
-- (store: TestChainerUsesItsIndexUnderStaleStatistics).
ALTER FUNCTION events_chain(integer) SET enable_seqscan = off;
