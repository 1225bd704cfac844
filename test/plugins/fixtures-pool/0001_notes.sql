create table {{schema}}.notes (text text not null);
