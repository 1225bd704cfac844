-- Newest first, keyset by (created_at, id); account filter matches either side.
select t.*, t.created_at::text as created_at_text, d.code as debit_code, c.code as credit_code
from {{schema}}.transfers t
join {{schema}}.accounts d on d.id = t.debit_account_id
join {{schema}}.accounts c on c.id = t.credit_account_id
where t.project = $1
  and ($2::text is null or d.code = $2 or c.code = $2)
  and ($3::text is null or t.state = $3)
  and ($4::timestamptz is null or (t.created_at, t.id) < ($4::timestamptz, $5::uuid))
  and ($7::text is null or t.metadata @> $7::jsonb)
order by t.created_at desc, t.id desc
limit $6
