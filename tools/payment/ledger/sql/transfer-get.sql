select t.*, d.code as debit_code, c.code as credit_code
from {{schema}}.transfers t
join {{schema}}.accounts d on d.id = t.debit_account_id
join {{schema}}.accounts c on c.id = t.credit_account_id
where t.id = $2::uuid and t.project = $1
