insert into {{schema}}.provider_cursors (provider, cursor) values ($1, $2)
on conflict (provider) do update set cursor = excluded.cursor, updated_at = now()
