-- One controller at a time across servers: held until the transaction ends (a server that dies
-- mid-step rolls back and lets go).
select pg_try_advisory_xact_lock($1::bigint) as locked
