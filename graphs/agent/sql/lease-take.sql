update {{schema}}.runs set lease_owner = $2, lease_until = now() + ($3::int * interval '1 millisecond')
where id = $1 and status in ('running', 'waiting_approval')
  and (lease_until is null or lease_until < now() or lease_owner = $2)
returning id
