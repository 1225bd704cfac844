with old as (
  select p.term, count(*)::int as n from {{schema}}.postings p where p.chunk = any($2::bigint[]) group by p.term
)
update {{schema}}.terms t set df = t.df - old.n from old where t.kb = $1 and t.term = old.term
