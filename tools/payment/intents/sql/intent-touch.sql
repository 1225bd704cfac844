update {{schema}}.intents set updated_at = now() where id = $1
