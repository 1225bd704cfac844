update {{schema}}.provider_events set outcome = $3 where provider = $1 and event_id = $2
