insert into {{schema}}.threads (project, thread_id, memory) values ($1, $2, $3::jsonb)
on conflict (project, thread_id) do update set memory = excluded.memory, updated_at = now()
