-- Serialises admission per project until the transaction ends (any control plane, any session).
-- $1 project
select pg_advisory_xact_lock(hashtextextended('anvil.jobs.admit:' || $1::text, 0))
