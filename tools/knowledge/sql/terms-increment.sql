insert into {{schema}}.terms (kb, term, df)
select $1, term, count(*)::int from unnest($2::text[]) as term group by term
on conflict (kb, term) do update set df = {{schema}}.terms.df + excluded.df
