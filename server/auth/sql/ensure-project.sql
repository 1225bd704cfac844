insert into anvil.projects (id, name)
values ($1, $1)
on conflict (id) do nothing
returning id
