-- One statement per flushed batch; ids make a retried flush write nothing twice.
insert into anvil.audit_log (id, at, request_id, principal, project_id, tool, args_sha256, outcome, error_code, duration_ms, transport, details)
select * from unnest(
  $1::uuid[], $2::timestamptz[], $3::text[], $4::text[], $5::text[], $6::text[],
  $7::text[], $8::text[], $9::text[], $10::double precision[], $11::text[], $12::jsonb[]
)
on conflict (id) do nothing
