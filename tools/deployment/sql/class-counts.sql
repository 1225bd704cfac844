-- Predicted classes per variant since a moment (abstentions as their top label), for drift.
select variant, top_label, count(*)::integer as n from {{schema}}.predictions
 where project = $1 and deployment = $2 and at >= $3 and not shadow and error is null and top_label is not null
 group by variant, top_label
