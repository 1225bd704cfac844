-- Running jobs already asked to yield, per worker: slots about to free. No parameters.
select worker, count(*)::bigint as n from {{schema}}.jobs
where state = 'running' and preempt_requested and worker is not null
group by worker
