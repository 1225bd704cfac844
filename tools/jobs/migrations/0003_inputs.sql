-- Files a job needs on its worker (a dataset, a model to evaluate): blobs by content, downloaded
-- by the worker into `<workDir>/inputs/<name>` before the recipe starts. [{name, sha256}]
alter table {{schema}}.jobs add column inputs jsonb not null default '[]'::jsonb;
