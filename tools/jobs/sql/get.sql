-- $1 id, $2 project
select * from {{schema}}.jobs where id = $1::uuid and project = $2::text
