-- Foreign keys touching one relation (by oid), both ways: name, referencing schema, table
-- and columns, referenced schema, table and columns (columns in key order).
select con.conname,
       sn.nspname, sc.relname,
       (select array_agg(a.attname::text order by k.ord)
          from unnest(con.conkey) with ordinality k(attnum, ord)
          join pg_attribute a on a.attrelid = con.conrelid and a.attnum = k.attnum),
       tn.nspname, tc.relname,
       (select array_agg(a.attname::text order by k.ord)
          from unnest(con.confkey) with ordinality k(attnum, ord)
          join pg_attribute a on a.attrelid = con.confrelid and a.attnum = k.attnum)
from pg_constraint con
join pg_class sc on sc.oid = con.conrelid
join pg_namespace sn on sn.oid = sc.relnamespace
join pg_class tc on tc.oid = con.confrelid
join pg_namespace tn on tn.oid = tc.relnamespace
where con.contype = 'f' and (con.conrelid = %(oid)s or con.confrelid = %(oid)s)
order by con.conname
