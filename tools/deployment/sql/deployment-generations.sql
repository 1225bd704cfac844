-- The generations of the deployments a server serves (one query for the background state refresh).
select d.project, d.name, d.generation
  from {{schema}}.deployments d
  join unnest($1::text[], $2::text[]) as k(project, name) on d.project = k.project and d.name = k.name
