-- The side panel's facts about one relation (by oid): kind of fact, name, definition.
select 'index', c.relname::text, pg_get_indexdef(x.indexrelid)
  from pg_index x join pg_class c on c.oid = x.indexrelid where x.indrelid = %(oid)s
union all
select 'constraint', con.conname::text, pg_get_constraintdef(con.oid)
  from pg_constraint con where con.conrelid = %(oid)s
union all
select 'trigger', t.tgname::text, pg_get_triggerdef(t.oid)
  from pg_trigger t where t.tgrelid = %(oid)s and not t.tgisinternal
union all
select 'policy', p.polname::text,
       concat_ws(' ', case p.polpermissive when true then 'permissive' else 'restrictive' end,
                 'for', case p.polcmd when 'r' then 'select' when 'a' then 'insert'
                              when 'w' then 'update' when 'd' then 'delete' else 'all' end,
                 'to', coalesce((select string_agg(r.rolname, ', ') from pg_roles r
                                  where r.oid = any(p.polroles)), 'public'),
                 'using (' || pg_get_expr(p.polqual, p.polrelid) || ')',
                 'with check (' || pg_get_expr(p.polwithcheck, p.polrelid) || ')')
  from pg_policy p where p.polrelid = %(oid)s
order by 1, 2
