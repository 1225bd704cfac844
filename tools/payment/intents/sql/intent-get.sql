-- By primary key (the caller checked the id is a UUID): a cast of the column would scan the project.
select * from {{schema}}.intents where id = $2::uuid and project = $1
