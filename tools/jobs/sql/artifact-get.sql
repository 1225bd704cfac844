-- One artifact of a job by name. $1 job, $2 name
select sha256, media_type from {{schema}}.artifacts where job_id = $1::uuid and name = $2::text
