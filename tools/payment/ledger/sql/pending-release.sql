-- Releases a pending amount ($3) from both accounts and posts $4 of it (0 for a void or an expiry),
-- locking the two accounts in id order.
with locked as (
  select id from {{schema}}.accounts where id in ($1::uuid, $2::uuid) order by id for update
)
update {{schema}}.accounts a
set debits_pending = a.debits_pending - case when a.id = $1::uuid then $3::numeric else 0 end,
    debits_posted = a.debits_posted + case when a.id = $1::uuid then $4::numeric else 0 end,
    credits_pending = a.credits_pending - case when a.id = $2::uuid then $3::numeric else 0 end,
    credits_posted = a.credits_posted + case when a.id = $2::uuid then $4::numeric else 0 end
from locked
where a.id = locked.id
