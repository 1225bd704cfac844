-- Tenant fairness: a project's priority ceiling and priority class are operator settings, kept with
-- its quota (set with scope cluster:operate, which no project key holds).

alter table {{schema}}.quotas
  -- A submission asking for more is capped to this (null: the server's jobs.maxPriority).
  add column max_priority integer check (max_priority between -1000000 and 1000000),
  -- One of the operator's jobs.priorityClasses (null: jobs.defaultPriorityClass). Only a project of a
  -- higher-ranked class may preempt another project's jobs.
  add column priority_class text;

-- Preemption looks up the class of the projects running on the workers it considers.
create index jobs_running_class_idx on {{schema}}.jobs (resource_class, priority) where state = 'running';
