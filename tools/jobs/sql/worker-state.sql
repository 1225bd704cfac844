-- A worker's state (no row: unknown worker). $1 id
select state from {{schema}}.workers where id = $1::text
