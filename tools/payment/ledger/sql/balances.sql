-- Per currency: total debits and credits (posted and pending) over all the project's accounts.
-- Every transfer adds the same amount to both sides, so the two are always equal.
select currency,
       sum(debits_posted)::text as debits_posted, sum(credits_posted)::text as credits_posted,
       sum(debits_pending)::text as debits_pending, sum(credits_pending)::text as credits_pending,
       count(*)::int as accounts
from {{schema}}.accounts
where project = $1 and ($2::text is null or currency = $2)
group by currency
order by currency
