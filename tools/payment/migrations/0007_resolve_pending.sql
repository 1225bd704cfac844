-- One round trip to post or void a pending transfer: resolve_pending() does in one call what the
-- ledger did in seven (read by key, BEGIN, claim, insert the resolution, release both accounts,
-- read it back, COMMIT). Called as one statement in autocommit, any error undoes all of it.
-- 1. The key already made a transfer: the same body returns it (inserted false); another raises PA409.
-- 2. Claim the pending transfer: only one caller moves it out of 'pending', before its timeout. Not
--    claimed: a concurrent caller with the same key may have won (read again: this statement sees
--    its commit) and it is returned; otherwise PA404 (the caller says why: unknown, not pending,
--    already posted, voided or expired).
-- 3. A post above the pending amount raises PA422 (detail: the pending amount).
-- 4. Insert the resolution, lock both accounts in id order, release the pending amount and post
--    what is posted (0 for a void).
create function {{schema}}.resolve_pending(
  p_project text, p_pending uuid, p_action text, p_amount numeric, p_id uuid, p_key text, p_hash text, p_metadata text, p_by text
) returns table (
  id uuid, kind text, debit_account_id uuid, credit_account_id uuid, debit_code text, credit_code text,
  amount numeric, currency text, state text, pending_id uuid, timeout_at timestamptz, idempotency_key text,
  request_hash text, metadata jsonb, created_by text, created_at timestamptz, resolved_at timestamptz, inserted boolean
)
language plpgsql as $$
#variable_conflict use_column
declare
  existing record;
  claimed record;
  settled numeric;
  posted numeric;
  got boolean := false;
begin
  for attempt in 1..2 loop
    select t.id, t.request_hash into existing from {{schema}}.transfers t where t.project = p_project and t.idempotency_key = p_key;
    if found then
      if existing.request_hash <> p_hash then
        raise exception 'idempotency key % was used before with another body', p_key using errcode = 'PA409';
      end if;
      return query
      select t.id, t.kind, t.debit_account_id, t.credit_account_id, d.code, c.code, t.amount, t.currency, t.state, t.pending_id,
             t.timeout_at, t.idempotency_key, t.request_hash, t.metadata, t.created_by, t.created_at, t.resolved_at, false
      from {{schema}}.transfers t
      join {{schema}}.accounts d on d.id = t.debit_account_id
      join {{schema}}.accounts c on c.id = t.credit_account_id
      where t.id = existing.id;
      return;
    end if;
    exit when attempt = 2;
    update {{schema}}.transfers t
    set state = case when p_action = 'post' then 'posted' else 'voided' end, resolved_at = now()
    where t.id = p_pending and t.project = p_project and t.kind = 'pending' and t.state = 'pending' and (t.timeout_at is null or t.timeout_at > now())
    returning t.id, t.debit_account_id, t.credit_account_id, t.amount, t.currency into claimed;
    got := found;
    exit when got;
  end loop;
  if not got then
    raise exception 'pending transfer % is not available', p_pending using errcode = 'PA404';
  end if;
  posted := case when p_action = 'post' then coalesce(p_amount, claimed.amount) else 0 end;
  if posted > claimed.amount then
    raise exception 'the post amount is above the pending amount' using errcode = 'PA422', detail = claimed.amount::text;
  end if;
  settled := case when p_action = 'post' then posted else claimed.amount end;
  insert into {{schema}}.transfers
    (id, project, kind, debit_account_id, credit_account_id, amount, currency, state, pending_id, idempotency_key, request_hash, metadata, created_by)
  values (p_id, p_project, p_action, claimed.debit_account_id, claimed.credit_account_id, settled, claimed.currency, 'posted', claimed.id, p_key, p_hash, p_metadata::jsonb, p_by);
  perform 1 from {{schema}}.accounts a where a.id in (claimed.debit_account_id, claimed.credit_account_id) order by a.id for update;
  update {{schema}}.accounts a
  set debits_pending = a.debits_pending - case when a.id = claimed.debit_account_id then claimed.amount else 0 end,
      debits_posted = a.debits_posted + case when a.id = claimed.debit_account_id then posted else 0 end,
      credits_pending = a.credits_pending - case when a.id = claimed.credit_account_id then claimed.amount else 0 end,
      credits_posted = a.credits_posted + case when a.id = claimed.credit_account_id then posted else 0 end
  where a.id in (claimed.debit_account_id, claimed.credit_account_id);
  return query
  select t.id, t.kind, t.debit_account_id, t.credit_account_id, d.code, c.code, t.amount, t.currency, t.state, t.pending_id,
         t.timeout_at, t.idempotency_key, t.request_hash, t.metadata, t.created_by, t.created_at, t.resolved_at, true
  from {{schema}}.transfers t
  join {{schema}}.accounts d on d.id = t.debit_account_id
  join {{schema}}.accounts c on c.id = t.credit_account_id
  where t.id = p_id;
end;
$$;
