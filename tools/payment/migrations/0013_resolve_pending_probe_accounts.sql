-- resolve_pending() (migrations/0007) locks and updates its two accounts with `where a.id in
-- (debit, credit)`. plpgsql keeps the generic plan it made while the ledger was small (PGlite never
-- analyzes, so nothing replaces it): on a page or two of accounts that plan is a scan, cheaper
-- there than two probes, and it then scanned every account on each post or void as the ledger grew.
-- As create_transfers() since 0012, the function runs with enable_seqscan off: each statement
-- probes the primary key. test/payments/ledger-plans.test.ts checks the plans made on 10 accounts.
alter function {{schema}}.resolve_pending(text, uuid, text, numeric, uuid, text, text, text, text) set enable_seqscan = off;
