-- How much feedback a deployment has: labelled rows, and those of them that carry their input
-- (what deployments_feedback_dataset would write).
select count(*) filter (where label is not null)::int as labelled,
       count(*) filter (where label is not null and input is not null)::int as usable,
       max(at) filter (where label is not null) as last_at
  from {{schema}}.feedback
 where project = $1 and deployment = $2
