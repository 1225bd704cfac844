-- Queued jobs waiting on a job, in dispatch order. $1 id
select id from {{schema}}.jobs
where state = 'queued' and depends_on <> '{}' and depends_on @> array[$1::uuid]
order by priority desc, seq
