-- A job's artifacts by name. $1 job
select id, job_id, name, sha256, size, media_type, created_at from {{schema}}.artifacts where job_id = $1::uuid order by name
