-- One relation by schema and name: oid, kind, primary key columns in index order, whether
-- Postgres can update, insert into and delete from it, RLS enabled and forced.
select c.oid, c.relkind::text,
       coalesce((select array_agg(a.attname::text order by k.ord)
                   from pg_index x
                   cross join unnest(x.indkey) with ordinality k(attnum, ord)
                   join pg_attribute a on a.attrelid = x.indrelid and a.attnum = k.attnum
                  where x.indrelid = c.oid and x.indisprimary), '{}'),
       pg_relation_is_updatable(c.oid, false),
       c.relrowsecurity, c.relforcerowsecurity
from pg_class c
join pg_namespace n on n.oid = c.relnamespace
where n.nspname = %(schema)s and c.relname = %(name)s
