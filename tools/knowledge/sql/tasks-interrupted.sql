update {{schema}}.tasks set state = 'failed', error = '{"code":"ANVIL_E_SHUTTING_DOWN","message":"the server stopped while this task ran; run it again"}', updated_at = now()
where state in ('queued', 'running')
