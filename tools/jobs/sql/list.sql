-- A project's jobs, newest first, after a keyset cursor on seq.
-- $1 project, $2 states (null: all), $3 recipe (null: all), $4 before seq (null: from the newest), $5 limit
select * from {{schema}}.jobs
where project = $1::text
  and ($2::text[] is null or state = any($2::text[]))
  and ($3::text is null or recipe = $3::text)
  and ($4::bigint is null or seq < $4::bigint)
order by seq desc
limit $5::int
