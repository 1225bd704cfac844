-- Serialises what happens to one blob's file: storing it (rename into place + its row) and
-- collecting it (its row deleted + the file removed) never interleave. Held to commit. $1 sha256
select pg_advisory_xact_lock(hashtextextended('anvil-blob:' || $1::text, 0))
