-- The first statement of a monitor read: every later query of the transaction sees the same
-- snapshot (a prediction-log flush committed meanwhile is in none or all of them), and writes nothing.
set transaction isolation level repeatable read, read only
