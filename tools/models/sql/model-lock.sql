-- Locks a model row to commit: registrations (the next version number) and alias changes of one
-- model run one at a time, whichever server they arrive on.
-- $1 project, $2 name
select project, name, description, created, created_by
from {{schema}}.models
where project = $1::text and name = $2::text
for update
