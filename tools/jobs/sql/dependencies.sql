-- Each dependency of a job with its state (null: the dependency no longer exists). One row with a
-- null dependency: the job has none. No row: no such job. $1 id
select dep.id as dependency, d.state
from {{schema}}.jobs j
left join lateral unnest(j.depends_on) with ordinality as dep(id, n) on true
left join {{schema}}.jobs d on d.id = dep.id
where j.id = $1::uuid
order by dep.n
