-- One round trip per transfer or batch: create_transfers() does in one call what the ledger did in
-- two to four (the insert-and-move statement, then a read of the rows by key, inside BEGIN/COMMIT
-- for a batch). Called as one statement in autocommit, it is atomic: any error rolls all of it back.
--
-- 1. Insert the batch; a key already used inserts nothing (on conflict do nothing: a concurrent
--    duplicate waits for the other writer, then skips). Unknown account or currency mismatch leaves a
--    null account id, which fails the statement (the caller then says which).
-- 2. Lock each touched account in id order (two batches never deadlock on one another) and move its
--    totals by the batch's sum; a flag CHECK that fails fails the whole call.
-- 3. The inserted rows are returned as they were inserted. When some key inserted nothing, its row is
--    read (a later statement: it sees a concurrent winner committed meanwhile); a key bound to
--    another body raises SQLSTATE PA409, undoing the batch (the caller names the key).
-- Returns one row per key, with `inserted` true for rows this call made.
create function {{schema}}.create_transfers(
  p_project text, p_ids uuid[], p_keys text[], p_hashes text[], p_debits text[], p_credits text[],
  p_amounts numeric[], p_currencies text[], p_kinds text[], p_timeouts integer[], p_metadata text[], p_by text
) returns table (
  id uuid, kind text, debit_account_id uuid, credit_account_id uuid, debit_code text, credit_code text,
  amount numeric, currency text, state text, pending_id uuid, timeout_at timestamptz, idempotency_key text,
  request_hash text, metadata jsonb, created_by text, created_at timestamptz, resolved_at timestamptz, inserted boolean
)
language plpgsql as $$
#variable_conflict use_column
declare
  made integer;
  reused integer;
begin
  -- The rows this call inserts are returned straight from the insert (their codes are the input's).
  return query
  with input as (
    select *
    from unnest(p_ids, p_keys, p_hashes, p_debits, p_credits, p_amounts, p_currencies, p_kinds, p_timeouts, p_metadata)
      as i(id, idempotency_key, request_hash, debit_code, credit_code, amount, currency, kind, timeout_seconds, metadata)
  ),
  ins as (
    insert into {{schema}}.transfers
      (id, project, kind, debit_account_id, credit_account_id, amount, currency, state, timeout_at, idempotency_key, request_hash, metadata, created_by)
    select i.id, p_project, i.kind, d.id, c.id, i.amount, i.currency,
           case when i.kind = 'pending' then 'pending' else 'posted' end,
           case when i.timeout_seconds is null then null else now() + make_interval(secs => i.timeout_seconds) end,
           i.idempotency_key, i.request_hash, i.metadata::jsonb, p_by
    from input i
    left join {{schema}}.accounts d on d.project = p_project and d.code = i.debit_code and d.currency = i.currency
    left join {{schema}}.accounts c on c.project = p_project and c.code = i.credit_code and c.currency = i.currency
    on conflict (project, idempotency_key) do nothing
    returning *
  ),
  moves as (
    select debit_account_id as account_id,
           case when kind = 'pending' then amount else 0 end as debits_pending,
           case when kind = 'single' then amount else 0 end as debits_posted,
           0::numeric as credits_pending, 0::numeric as credits_posted
    from ins
    union all
    select credit_account_id, 0, 0,
           case when kind = 'pending' then amount else 0 end,
           case when kind = 'single' then amount else 0 end
    from ins
  ),
  deltas as (
    select account_id, sum(debits_pending) as dp, sum(debits_posted) as dd, sum(credits_pending) as cp, sum(credits_posted) as cd
    from moves group by account_id
  ),
  locked as (
    select a.id from {{schema}}.accounts a where a.id in (select account_id from deltas) order by a.id for update
  ),
  upd as (
    update {{schema}}.accounts a
    set debits_pending = a.debits_pending + deltas.dp, debits_posted = a.debits_posted + deltas.dd,
        credits_pending = a.credits_pending + deltas.cp, credits_posted = a.credits_posted + deltas.cd
    from deltas join locked on locked.id = deltas.account_id
    where a.id = deltas.account_id
    returning a.id
  )
  -- (upd runs whether read or not: a data-modifying WITH always runs to completion.)
  select ins.id, ins.kind, ins.debit_account_id, ins.credit_account_id, i.debit_code, i.credit_code, ins.amount, ins.currency, ins.state,
         ins.pending_id, ins.timeout_at, ins.idempotency_key, ins.request_hash, ins.metadata, ins.created_by, ins.created_at, ins.resolved_at, true
  from ins join input i on i.id = ins.id;
  get diagnostics made = row_count;
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
         t.timeout_at, t.idempotency_key, t.request_hash, t.metadata, t.created_by, t.created_at, t.resolved_at, false
  from unnest(p_ids, p_keys) as k(id, key)
  cross join lateral (select * from {{schema}}.transfers x where x.project = p_project and x.idempotency_key = k.key offset 0) t
  where t.id <> k.id;
end;
$$;
