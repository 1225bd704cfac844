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
-- Each account is locked and updated by one probe of the primary key, in id order (as
-- create_transfers, migrations/0012): a scan of all accounts would cost what the ledger holds, not
-- what expired. `= any (array[…])`: a join clause the planner cannot hash or merge.
locked as (
  select l.id, d.dp, d.cp
  from (select * from deltas order by account_id) d
  cross join lateral (select x.id from {{schema}}.accounts x where x.id = d.account_id for update offset 0) l
),
upd as (
  update {{schema}}.accounts a
  set debits_pending = a.debits_pending - locked.dp, credits_pending = a.credits_pending - locked.cp
  from locked
  where a.id = any (array[locked.id])
  returning a.id
)
select (select count(*) from expired)::int as expired, (select count(*) from upd)::int as accounts_updated
