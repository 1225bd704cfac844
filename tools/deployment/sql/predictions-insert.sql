insert into {{schema}}.predictions (project, request_id, shadow, deployment, variant, model_version, at, latency_ms, batch_size, label, top_label, probability, abstained, threshold, error, input)
select project, request_id, shadow, deployment, variant, model_version, at, latency_ms, batch_size, label, top_label, probability, abstained, threshold, error, input
  from jsonb_to_recordset($1::jsonb) as r(project text, request_id text, shadow boolean, deployment text, variant text, model_version integer, at timestamptz,
       latency_ms real, batch_size integer, label text, top_label text, probability real, abstained boolean, threshold real, error text, input jsonb)
on conflict do nothing
