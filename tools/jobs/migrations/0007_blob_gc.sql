-- Garbage collection of blobs nothing references: a blob is stored or stored again ("touched") with
-- last_used_at = now(); the collector only considers blobs untouched for a grace period, so an
-- upload whose reference (artifact, job input, dataset version) is still being written is kept.
alter table {{schema}}.blobs add column last_used_at timestamptz not null default now();
create index blobs_last_used_idx on {{schema}}.blobs (last_used_at);
-- Job inputs name blobs inside a jsonb array: the collector asks for them by value.
create index jobs_inputs_idx on {{schema}}.jobs using gin (inputs jsonb_path_ops);
