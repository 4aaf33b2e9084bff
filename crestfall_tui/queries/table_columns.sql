-- The columns of one relation (by oid), in order: name, SQL type, type category, nullable,
-- default, enum labels, identity, generated, and whether an array's elements are enum.
select a.attname,
       format_type(a.atttypid, a.atttypmod),
       coalesce(et.typcategory, t.typcategory)::text,
       t.typcategory = 'A',
       not a.attnotnull,
       pg_get_expr(d.adbin, d.adrelid),
       (select array_agg(e.enumlabel::text order by e.enumsortorder)
          from pg_enum e where e.enumtypid = coalesce(et.oid, t.oid)),
       a.attidentity::text,
       a.attgenerated::text,
       coalesce(et.typname, t.typname)::text
from pg_attribute a
join pg_type t on t.oid = a.atttypid
left join pg_type et on et.oid = t.typelem and t.typcategory = 'A'
left join pg_attrdef d on d.adrelid = a.attrelid and d.adnum = a.attnum
where a.attrelid = %(oid)s and a.attnum > 0 and not a.attisdropped
order by a.attnum
