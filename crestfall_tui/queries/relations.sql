-- Every relation for the schema tree: schema, name, kind, estimated rows (-1: never
-- analysed), total size (a partitioned table's: all its partitions'), and the parent of a
-- partition.
select n.nspname, c.relname, c.relkind::text, c.reltuples::bigint,
       case when c.relkind = 'p'
            then (select coalesce(sum(pg_total_relation_size(t.relid)), 0)::bigint
                  from pg_partition_tree(c.oid) t)
            else pg_total_relation_size(c.oid) end,
       pn.nspname, pc.relname
from pg_class c
join pg_namespace n on n.oid = c.relnamespace
left join pg_inherits i on c.relispartition and i.inhrelid = c.oid
left join pg_class pc on pc.oid = i.inhparent
left join pg_namespace pn on pn.oid = pc.relnamespace
where c.relkind in ('r', 'p', 'v', 'm', 'f')
  and n.nspname !~ '^pg_toast' and n.nspname !~ '^pg_temp'
order by n.nspname, c.relname
