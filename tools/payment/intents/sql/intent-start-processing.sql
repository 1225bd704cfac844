-- Confirming moves an intent out of requires_confirmation once; a second confirm finds it moved.
update {{schema}}.intents
set status = 'processing', preview_hash = coalesce($3, preview_hash), risk = coalesce($4::jsonb, risk), updated_at = now()
where project = $1 and id = $2 and status = 'requires_confirmation'
returning *
