-- Registers a worker, or re-registers one that restarted under the same id: active again, with a
-- fresh lease. Also returns the jobs still running under that id from before (orphans of the
-- previous process, which the caller requeues).
-- $1 id, $2 name, $3 capabilities, $4 resource classes, $5 lease (ms), $6 slots, $7 recipes
with registered as (
  insert into {{schema}}.workers as w (id, name, capabilities, resource_classes, state, registered_at, last_heartbeat, lease_expires_at, slots, recipes)
  values ($1::text, $2::text, $3::jsonb, $4::text[], 'active', now(), now(), now() + make_interval(secs => $5::float8 / 1000), $6::int, $7::text[])
  on conflict (id) do update set
    name = excluded.name,
    capabilities = excluded.capabilities,
    resource_classes = excluded.resource_classes,
    slots = excluded.slots,
    recipes = excluded.recipes,
    state = 'active',
    registered_at = excluded.registered_at,
    last_heartbeat = excluded.last_heartbeat,
    lease_expires_at = excluded.lease_expires_at
  returning *
)
select r.*, array(select j.id from {{schema}}.jobs j where j.worker = r.id and j.state = 'running' order by j.seq) as running_jobs
from registered r
