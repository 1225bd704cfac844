-- Labelled feedback rows that carry their input, for a feedback dataset version.
select request_id, deployment, variant, model_version, label, input, by, at from {{schema}}.feedback
 where project = $1 and deployment = $2 and label is not null and input is not null
 order by at, request_id limit $3
