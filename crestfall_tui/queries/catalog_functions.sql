-- Function names outside the system catalogs, for completion.
select distinct p.proname
from pg_proc p join pg_namespace n on n.oid = p.pronamespace
where n.nspname not in ('pg_catalog', 'information_schema')
order by 1
