-- The highest log seq a project's job has; no row: no such job in the project. $1 id, $2 project
select log_seq from {{schema}}.jobs where id = $1::uuid and project = $2::text
