-- create_transfers() locks and updates its accounts by probing the primary key once per distinct
-- account of the call, whatever the planner knows of the accounts table (same arguments, result and
-- steps as migrations/0011; 0005 explains them).
-- Before, the lock step was `where a.id in (select account_id from deltas) order by a.id for update`
-- and the update a join of the sums to accounts: planned while a ledger is small (or has no
-- statistics: PGlite never analyzes), both are a hash join over a scan of every account, cheaper
-- than probes for 10 accounts. plpgsql keeps that plan for the session (a generic plan is reused
-- until the table's statistics or definition change, which on PGlite is never), so the same scan
-- then ran at 100k accounts, on every call. Now:
-- - lock: the sums sorted by account id drive a nested loop over `lateral (… for update offset 0)`,
--   one primary-key probe and row lock per account, taken in id order as before;
-- - update: joined to the locked rows by `id = any (array[id])`, which the planner cannot turn into
--   a hash or merge join, so it is a probe per locked account too;
-- - the function runs with enable_seqscan off, so no plan it caches (made when the table had a page
--   or two, where a probe costs more than reading it) reads accounts or transfers whole.
-- The statement trigger that checks a batch's accounts (migrations/0009) had the same flaw, and
-- cost more: its probe matched id, project and currency, and planned on a small ledger it used the
-- (project, code) index on the project alone, reading every account of the project once per
-- distinct account of the batch (PGlite, 100k accounts, a batch of 100 over 10 accounts: ~180 ms
-- a call, against ~4 ms planned at that size). It now probes the primary key alone and compares
-- project and currency on the row it found, also with enable_seqscan off.
-- test/payments/ledger-plans.test.ts checks the plans on a ledger of many accounts, planned small.

create or replace function {{schema}}.create_transfers(
  p_project text, p_ids uuid[], p_keys text[], p_hashes text[], p_debits text[], p_credits text[],
  p_amounts numeric[], p_currencies text[], p_kinds text[], p_timeouts integer[], p_metadata text[], p_by text
) returns table (
  id uuid, kind text, debit_account_id uuid, credit_account_id uuid, debit_code text, credit_code text,
  amount numeric, currency text, state text, pending_id uuid, timeout_at timestamptz, idempotency_key text,
  request_hash text, metadata jsonb, created_by text, created_at timestamptz, resolved_at timestamptz, inserted boolean,
  inserted_count integer
)
language plpgsql
-- No plan of this function scans accounts or transfers (see above): its plans are cached for the
-- session, and a plan made while the ledger was small would otherwise keep scanning it as it grows.
set enable_seqscan = off
as $$
#variable_conflict use_column
declare
  made integer;
  reused integer;
begin
  with input as (
    select *
    from unnest(p_ids, p_keys, p_hashes, p_debits, p_credits, p_amounts, p_currencies, p_kinds, p_timeouts, p_metadata)
      as i(id, idempotency_key, request_hash, debit_code, credit_code, amount, currency, kind, timeout_seconds, metadata)
  ),
  codes as (
    select a.id, a.code, a.currency
    from (select distinct c.code from input i cross join lateral (values (i.debit_code), (i.credit_code)) c(code)) k
    cross join lateral (select x.id, x.code, x.currency from {{schema}}.accounts x where x.project = p_project and x.code = k.code offset 0) a
  ),
  ins as (
    insert into {{schema}}.transfers
      (id, project, kind, debit_account_id, credit_account_id, amount, currency, state, timeout_at, idempotency_key, request_hash, metadata, created_by)
    select i.id, p_project, i.kind, d.id, c.id, i.amount, i.currency,
           case when i.kind = 'pending' then 'pending' else 'posted' end,
           case when i.timeout_seconds is null then null else now() + make_interval(secs => i.timeout_seconds) end,
           i.idempotency_key, i.request_hash, i.metadata::jsonb, p_by
    from input i
    left join codes d on d.code = i.debit_code and d.currency = i.currency
    left join codes c on c.code = i.credit_code and c.currency = i.currency
    on conflict (project, idempotency_key) do nothing
    returning debit_account_id, credit_account_id, amount, kind
  ),
  deltas as (
    select m.account_id, sum(m.dp) as dp, sum(m.dd) as dd, sum(m.cp) as cp, sum(m.cd) as cd
    from ins
    cross join lateral (
      select case when ins.kind = 'pending' then ins.amount else 0 end as pending_amount,
             case when ins.kind = 'single' then ins.amount else 0 end as posted_amount
    ) s
    cross join lateral (values
      (ins.debit_account_id, s.pending_amount, s.posted_amount, 0::numeric, 0::numeric),
      (ins.credit_account_id, 0::numeric, 0::numeric, s.pending_amount, s.posted_amount)
    ) m(account_id, dp, dd, cp, cd)
    group by m.account_id
  ),
  -- One probe of the primary key per distinct account, in id order (the lock order that keeps two
  -- batches from deadlocking): the sorted sums drive a nested loop whose inner side locks one row
  -- (a lateral subquery can only be a nested loop's inner side, and that loop keeps its outer order).
  locked as (
    select l.id, d.dp, d.dd, d.cp, d.cd
    from (select * from deltas order by account_id) d
    cross join lateral (select x.id from {{schema}}.accounts x where x.id = d.account_id for update offset 0) l
  ),
  -- `= any (array[…])` rather than `=`: a join clause the planner cannot hash or merge, so the update
  -- too probes the primary key once per locked account instead of reading the whole table.
  upd as (
    update {{schema}}.accounts a
    set debits_pending = a.debits_pending + locked.dp, debits_posted = a.debits_posted + locked.dd,
        credits_pending = a.credits_pending + locked.cp, credits_posted = a.credits_posted + locked.cd
    from locked
    where a.id = any (array[locked.id])
    returning a.id
  )
  -- (upd runs whether read or not: a data-modifying WITH always runs to completion.)
  select count(*) into made from ins;
  -- The header: how many rows this call inserted, and their created_at (now(): the transaction's
  -- start, the same for every row of the call). The OUT columns not set here stay null.
  created_at := now();
  inserted := true;
  inserted_count := made;
  return next;
  if made = cardinality(p_keys) then
    return;
  end if;

  -- Every lookup here is one probe of a unique index per row: `lateral (… offset 0)` keeps the
  -- planner from flattening it into a join over all of the project's transfers or accounts, which
  -- it would choose on stale or missing statistics (PGlite never analyzes) and which grows with the
  -- ledger.
  -- Some keys were used before: only they can be bound to another body (the common case returned above).
  -- (A count, not EXISTS: planned as EXISTS, this probe ran ~50x slower on PGlite.)
  select count(*) into reused
  from unnest(p_keys, p_hashes) as k(key, hash)
  cross join lateral (select x.request_hash from {{schema}}.transfers x where x.project = p_project and x.idempotency_key = k.key offset 0) t
  where t.request_hash <> k.hash;
  if reused > 0 then
    raise exception 'an idempotency key of this batch was used before with another body' using errcode = 'PA409';
  end if;

  -- Keys already used (a replay, or a concurrent duplicate that won): their first transfer.
  return query
  select t.id, t.kind, t.debit_account_id, t.credit_account_id,
         (select d.code from {{schema}}.accounts d where d.id = t.debit_account_id),
         (select c.code from {{schema}}.accounts c where c.id = t.credit_account_id),
         t.amount, t.currency, t.state, t.pending_id,
         t.timeout_at, t.idempotency_key, t.request_hash, t.metadata, t.created_by, t.created_at, t.resolved_at, false, null::integer
  from unnest(p_ids, p_keys) as k(id, key)
  cross join lateral (select * from {{schema}}.transfers x where x.project = p_project and x.idempotency_key = k.key offset 0) t
  where t.id <> k.id;
end;
$$;

create or replace function {{schema}}.transfers_check_accounts() returns trigger
language plpgsql
-- As create_transfers above: its plan is kept for the session, so it must not depend on the size
-- the accounts table had when it was made.
set enable_seqscan = off
as $$
declare
  missing integer;
begin
  -- One probe of the primary key per distinct account (the only condition on accounts is its id,
  -- so no other index can serve it); project and currency are compared on the row found.
  select count(*) filter (where a.id is null or a.project <> n.project or a.currency <> n.currency) into missing
  from (
    select debit_account_id as account_id, project, currency from inserted_transfers
    union
    select credit_account_id, project, currency from inserted_transfers
  ) n
  left join lateral (
    select x.id, x.project, x.currency from {{schema}}.accounts x where x.id = n.account_id offset 0
  ) a on true;
  if missing > 0 then
    raise exception 'a transfer names an account that does not exist in its project and currency'
      using errcode = '23503', constraint = 'transfers_accounts_exist';
  end if;
  return null;
end;
$$;
