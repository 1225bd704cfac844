delete from {{schema}}.provider_events where provider = $1 and event_id = $2
