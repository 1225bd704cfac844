-- The id of the last report batch a worker sent for a job. A worker retries a report whose answer
-- it did not get; the same id again means the batch was already stored, so its log lines are not
-- appended twice (metrics are upserts and need no such guard).
alter table {{schema}}.jobs add column last_report_id text;
