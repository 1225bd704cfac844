-- Claims a live pending transfer for posting or voiding: only one caller can move it out of 'pending'.
update {{schema}}.transfers
set state = $3, resolved_at = now()
where project = $1 and id::text = $2 and kind = 'pending' and state = 'pending' and (timeout_at is null or timeout_at > now())
returning id, debit_account_id, credit_account_id, amount, currency
