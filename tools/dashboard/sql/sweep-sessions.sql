delete from {{schema}}.sessions where expires_at <= now()
