-- deployments_delete removes a deployment but keeps its history (the `deleted` row records what it
-- served): history rows no longer cascade with the deployment row. A deployment created again
-- under the same name continues the same history.
alter table {{schema}}.deployment_history drop constraint if exists deployment_history_project_name_fkey;
