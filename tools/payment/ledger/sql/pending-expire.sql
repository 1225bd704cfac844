-- Expires pending transfers whose timeout has passed and releases their amounts, a bounded batch at
-- a time; rows another transaction is resolving are skipped (it will post or void them).
with expired as (
  update {{schema}}.transfers t
  set state = 'expired', resolved_at = now()
  where t.id in (
    select id from {{schema}}.transfers
    where state = 'pending' and timeout_at <= now()
    order by timeout_at limit 200
    for update skip locked
  )
  returning t.debit_account_id, t.credit_account_id, t.amount
),
moves as (
  select debit_account_id as account_id, amount as dp, 0::numeric as cp from expired
  union all
  select credit_account_id, 0, amount from expired
),
deltas as (select account_id, sum(dp) as dp, sum(cp) as cp from moves group by account_id),
locked as (select a.id from {{schema}}.accounts a where a.id in (select account_id from deltas) order by a.id for update),
upd as (
  update {{schema}}.accounts a
  set debits_pending = a.debits_pending - deltas.dp, credits_pending = a.credits_pending - deltas.cp
  from deltas join locked on locked.id = deltas.account_id
  where a.id = deltas.account_id
  returning a.id
)
select (select count(*) from expired)::int as expired, (select count(*) from upd)::int as accounts_updated
