-- Creates a batch of single (posted) and pending transfers in one statement: the rows are inserted
-- (a repeated idempotency key inserts nothing), then each touched account is locked in id order
-- (so two batches never deadlock on one another) and its totals move by the batch's sum. A flag
-- constraint that fails fails the whole statement; an unknown account or a currency mismatch
-- leaves a null account id, which fails it too (the caller then says which).
with input as (
  select *
  from unnest($2::uuid[], $3::text[], $4::text[], $5::text[], $6::text[], $7::numeric[], $8::text[], $9::text[], $10::integer[], $11::text[])
    as i(id, idempotency_key, request_hash, debit_code, credit_code, amount, currency, kind, timeout_seconds, metadata)
),
ins as (
  insert into {{schema}}.transfers
    (id, project, kind, debit_account_id, credit_account_id, amount, currency, state, timeout_at, idempotency_key, request_hash, metadata, created_by)
  select i.id, $1, i.kind, d.id, c.id, i.amount, i.currency,
         case when i.kind = 'pending' then 'pending' else 'posted' end,
         case when i.timeout_seconds is null then null else now() + make_interval(secs => i.timeout_seconds) end,
         i.idempotency_key, i.request_hash, i.metadata::jsonb, $12
  from input i
  left join {{schema}}.accounts d on d.project = $1 and d.code = i.debit_code and d.currency = i.currency
  left join {{schema}}.accounts c on c.project = $1 and c.code = i.credit_code and c.currency = i.currency
  on conflict (project, idempotency_key) do nothing
  returning id, kind, debit_account_id, credit_account_id, amount
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
select ins.id::text as id, (select count(*) from upd)::int as accounts_updated from ins
