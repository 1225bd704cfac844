-- admit.sql for a project without a quota: every held job whose dependencies have succeeded and
-- whose backoff has passed goes to BullMQ, without counting what the project already runs.
-- $1 project, $2 batch size
with admitted as (
  select j.id
  from {{schema}}.jobs j
  where j.project = $1::text and j.state = 'queued' and j.dispatched_at is null
    and (j.not_before is null or j.not_before <= now())
    and not exists (
      select 1 from unnest(j.depends_on) as d(id)
      left join {{schema}}.jobs dj on dj.id = d.id
      where dj.state is distinct from 'succeeded'
    )
  order by j.priority desc, j.seq
  limit $2::int
)
update {{schema}}.jobs j
set dispatched_at = now(), dispatch_seq = j.dispatch_seq + 1, not_before = null, updated_at = now()
from admitted
where j.id = admitted.id and j.state = 'queued' and j.dispatched_at is null
returning j.id, j.project, j.resource_class, j.priority, j.dispatch_seq, j.resources
