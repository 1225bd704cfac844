-- $1 id, $2 project, $3 name, $4 version, $5 sha256, $6 size bytes, $7 format, $8 rows, $9 columns (json),
-- $10 text column, $11 label column, $12 feature columns, $13 split counts (json), $14 label distribution (json),
-- $15 label count, $16 split mode, $17 seed, $18 options (json), $19 source, $20 created by
insert into {{schema}}.dataset_versions (
  id, project, name, version, sha256, size_bytes, format, row_count, columns, text_column, label_column,
  feature_columns, split_counts, label_distribution, label_count, split_mode, seed, options, source, created_by
) values (
  $1::uuid, $2::text, $3::text, $4::integer, $5::text, $6::bigint, $7::text, $8::bigint, $9::jsonb, $10::text, $11::text,
  $12::text[], $13::jsonb, $14::jsonb, $15::integer, $16::text, $17::bigint, $18::jsonb, $19::text, $20::text
)
returning *
