-- A stored blob is being referenced (a job input): the garbage collector keeps it for its grace
-- period. Waits for a collection of the same row in progress (and then finds it gone). $1 sha256
update {{schema}}.blobs set last_used_at = now() where sha256 = $1::text
