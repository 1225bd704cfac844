-- Which of the given ids are jobs of the project ($1 project, $2 ids).
select id from {{schema}}.jobs where project = $1::text and id = any($2::uuid[])
