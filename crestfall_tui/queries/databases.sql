-- The databases a session can open, with their sizes, for the database switcher.
select datname, pg_database_size(oid) as size_bytes
from pg_database
where datallowconn and not datistemplate and has_database_privilege(oid, 'CONNECT')
order by datname
