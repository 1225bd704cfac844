-- create_transfers() answers with one row for everything it inserted instead of one per transfer
-- (same arguments and steps as migrations/0010; migrations/0005 explains them). CPU time of one call
-- for a batch of 100 on PGlite (process.cpuUsage over 40 calls, serial): ~7.4 ms with 100 lean rows
-- returned, ~6.6 ms with the header alone; per transfer the rows cost the server the DataRows, the
-- wire session and the client their parse, for an id and a key the caller chose and a created_at
-- that is the same for all of them (now(): the start of the call's transaction).
-- Returns:
-- - first, one header row: inserted true, inserted_count = how many transfers this call inserted,
--   created_at = their created_at (their timeout_at is created_at + their timeout seconds); every
--   other column null;
-- - then, for each key used before (a replay, or a concurrent duplicate that won), its first
--   transfer, whole, with inserted false and inserted_count null.
-- The keys the call inserted are therefore the caller's keys without a replayed row.
-- (Another result type: dropped and created again, not replaced.)

drop function {{schema}}.create_transfers(text, uuid[], text[], text[], text[], text[], numeric[], text[], text[], integer[], text[], text);

create function {{schema}}.create_transfers(
  p_project text, p_ids uuid[], p_keys text[], p_hashes text[], p_debits text[], p_credits text[],
  p_amounts numeric[], p_currencies text[], p_kinds text[], p_timeouts integer[], p_metadata text[], p_by text
) returns table (
  id uuid, kind text, debit_account_id uuid, credit_account_id uuid, debit_code text, credit_code text,
  amount numeric, currency text, state text, pending_id uuid, timeout_at timestamptz, idempotency_key text,
  request_hash text, metadata jsonb, created_by text, created_at timestamptz, resolved_at timestamptz, inserted boolean,
  inserted_count integer
)
language plpgsql as $$
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
