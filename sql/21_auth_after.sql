-- After GoTrue's migrations (see 20_auth.sql): the stack's own additions to the auth schema,
-- and, once, the rows of a database made before crestfall-tui ran those migrations.

-- Rows set aside by 20_auth.sql go into the tables the migrations built: every column the
-- two have in common (the new tables only add columns). Foreign keys of other tables that
-- pointed at the old tables point at the new ones, and triggers on them are made again.
-- A view or other object that still depends on an old table stops this script with
-- Postgres's message (nothing is dropped along with it); every row stays set aside in
-- crestfall_auth_v0 until then.
do $$
declare
  t text;
  cols text;
  fk record;
  trg record;
begin
  if to_regclass('crestfall_auth_v0.users') is null then
    return;
  end if;
  foreach t in array array['instances', 'users', 'identities', 'sessions', 'refresh_tokens',
                           'audit_log_entries'] loop
    if to_regclass(format('crestfall_auth_v0.%I', t)) is null then
      continue;
    end if;
    select string_agg(quote_ident(old.attname), ', ' order by old.attnum) into cols
      from pg_attribute old
      join pg_attribute new on new.attrelid = format('auth.%I', t)::regclass
                           and new.attname = old.attname and new.attnum > 0
                           and not new.attisdropped and new.attgenerated = ''
     where old.attrelid = format('crestfall_auth_v0.%I', t)::regclass and old.attnum > 0
       and not old.attisdropped and old.attgenerated = '';
    execute format('insert into auth.%I (%s) overriding system value select %s from crestfall_auth_v0.%I',
                   t, cols, cols, t);
  end loop;
  perform setval(pg_get_serial_sequence('auth.refresh_tokens', 'id'), max(id))
     from auth.refresh_tokens having max(id) is not null;

  for fk in select c.conname, c.conrelid::regclass as relation, pg_get_constraintdef(c.oid) as def
              from pg_constraint c
              join pg_class target on target.oid = c.confrelid
             where c.contype = 'f'
               and target.relnamespace = 'crestfall_auth_v0'::regnamespace
               and (select relnamespace from pg_class where oid = c.conrelid)
                   <> 'crestfall_auth_v0'::regnamespace loop
    execute format('alter table %s drop constraint %I', fk.relation, fk.conname);
    execute format('alter table %s add constraint %I %s', fk.relation, fk.conname,
                   replace(fk.def, 'crestfall_auth_v0.', 'auth.'));
  end loop;

  for trg in select tg.tgname, c.relname, pg_get_triggerdef(tg.oid) as def
               from pg_trigger tg join pg_class c on c.oid = tg.tgrelid
              where c.relnamespace = 'crestfall_auth_v0'::regnamespace
                and not tg.tgisinternal loop
    if not exists (select from pg_trigger
                    where tgrelid = format('auth.%I', trg.relname)::regclass
                      and tgname = trg.tgname) then
      execute replace(trg.def, 'crestfall_auth_v0.', 'auth.');
    end if;
  end loop;

  -- All at once (restrict): a table set aside that something outside still needs stops it.
  execute (select 'drop table ' || string_agg(c.oid::regclass::text, ', ')
             from pg_class c
            where c.relnamespace = 'crestfall_auth_v0'::regnamespace and c.relkind in ('r', 'p'));
  drop schema crestfall_auth_v0;
end
$$;

-- The API roles reach the request's identity (auth.uid() and the like, for RLS policies).
grant usage on schema auth to anon, authenticated, service_role;
grant execute on function auth.jwt(), auth.uid(), auth.role(), auth.email() to public;
