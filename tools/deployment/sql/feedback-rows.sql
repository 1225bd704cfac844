-- Labelled feedback of a deployment since a moment, for online quality (newest first, bounded).
select variant, model_version, label, predicted, correct, reward from {{schema}}.feedback
 where project = $1 and deployment = $2 and at >= $3 and ($4::text is null or variant = $4)
 order by at desc limit $5
