-- The next version number of a model; run under the model row's lock (model-lock.sql), so
-- concurrent registrations get 1, 2, 3, … without gaps or duplicates.
-- $1 project, $2 name
select coalesce(max(version), 0) + 1 as next
from {{schema}}.model_versions
where project = $1::text and name = $2::text
