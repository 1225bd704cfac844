-- The job an idempotency key already names, and which parts of a new submission differ from it.
-- jsonb equality ignores key order; depends_on is compared sorted.
-- $1 project, $2 key, $3 recipe, $4 params, $5 resources, $6 priority, $7 max attempts, $8 depends on
select j.*,
       j.recipe = $3::text as same_recipe,
       j.params = $4::jsonb as same_params,
       j.resources = $5::jsonb as same_resources,
       j.priority = $6::int as same_priority,
       j.max_attempts = $7::int as same_max_attempts,
       j.depends_on = $8::uuid[] as same_depends_on
from {{schema}}.jobs j
where j.project = $1::text and j.idempotency_key = $2::text
