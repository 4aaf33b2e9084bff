-- Result columns' types named as Postgres names them (integer, text[], an enum's name). A
-- result describes a domain column by its base type, so a column read straight from a
-- table whose type is a domain is named by that domain.
select c.ord::int, format_type(coalesce(d.oid, c.type_oid), null)
from unnest(%(oids)s::oid[], %(tables)s::oid[], %(columns)s::int2[])
     with ordinality as c(type_oid, table_oid, column_number, ord)
left join pg_attribute a
       on a.attrelid = c.table_oid and a.attnum = c.column_number and not a.attisdropped
left join pg_type d on d.oid = a.atttypid and d.typtype = 'd'
order by c.ord
