drop index if exists {{schema}}.{{name}}
