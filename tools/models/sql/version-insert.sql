-- $1 project, $2 name, $3 version, $4 task, $5 recipe, $6 metrics, $7 signature, $8 lineage,
-- $9 artifacts, $10 card (Markdown), $11 created at, $12 created by
insert into {{schema}}.model_versions
  (project, name, version, task, recipe, metrics, signature, lineage, artifacts, card_md, created_at, created_by, status)
values ($1::text, $2::text, $3::int, $4::text, $5::text, $6::jsonb, $7::jsonb, $8::jsonb, $9::jsonb, $10::text, $11::timestamptz, $12::text, 'ready')
returning version
