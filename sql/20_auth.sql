-- Authentication: the "auth" schema is GoTrue's (supabase/auth). GoTrue's own migrations,
-- vendored unchanged in sql/gotrue/ at one pinned release, build it: after this script,
-- crestfall-tui runs each migration not yet recorded in auth.schema_migrations the way
-- GoTrue does (in order, one transaction each, as supabase_auth_admin with search_path
-- auth), so a GoTrue of that release started on this database has nothing left to do, and
-- a newer one runs only its newer files. This script prepares for them; 21_auth_after.sql
-- adds the stack's own grants afterwards.
create schema if not exists auth authorization supabase_auth_admin;
alter role supabase_auth_admin set search_path = auth;
grant all on schema auth to supabase_auth_admin;

-- A database made by crestfall-tui before it ran GoTrue's migrations holds hand-written
-- auth tables (GoTrue's shape of early 2024 for 7 of its tables) and no version. Running
-- the migrations over them would drop identities' primary key and fail on ordinary rows
-- (a refresh token whose parent is gone, a user without an identity). So they are set
-- aside in crestfall_auth_v0, the migrations build the tables afresh, and
-- 21_auth_after.sql carries the rows over (with the foreign keys and triggers that point
-- at them) and drops what was set aside.
do $$
declare
  recorded boolean := false;
  t record;
begin
  if to_regclass('auth.users') is null or to_regclass('crestfall_auth_v0.users') is not null then
    return;
  end if;
  if to_regclass('auth.schema_migrations') is not null then
    execute 'select exists (select from auth.schema_migrations)' into recorded;
  end if;
  if recorded then
    return;  -- GoTrue (or the supabase/postgres image) built it: its migrations carry on
  end if;
  create schema crestfall_auth_v0;
  for t in select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace
           where n.nspname = 'auth' and c.relkind in ('r', 'p')
             and c.relname <> 'schema_migrations' loop
    execute format('alter table auth.%I set schema crestfall_auth_v0', t.relname);
  end loop;
end
$$;

-- pop's table of applied versions (pop creates it only when `select * from
-- schema_migrations` fails, so it must be GoTrue's to write).
create table if not exists auth.schema_migrations (
  version varchar(255) not null primary key
);
alter table auth.schema_migrations owner to supabase_auth_admin;

-- Functions and types an earlier crestfall-tui created as postgres: GoTrue replaces the
-- functions (`create or replace`, which keeps them, and every policy that calls them), so
-- they must be its own.
do $$
declare
  f record;
begin
  for f in select p.oid::regprocedure as signature from pg_proc p
           join pg_namespace n on n.oid = p.pronamespace
           where n.nspname = 'auth' and p.proname in ('uid', 'role', 'email', 'jwt')
             and pg_get_userbyid(p.proowner) <> 'supabase_auth_admin' loop
    execute format('alter function %s owner to supabase_auth_admin', f.signature);
  end loop;
  for f in select t.oid::regtype as name from pg_type t
           join pg_namespace n on n.oid = t.typnamespace
           where n.nspname = 'auth' and t.typtype = 'e'
             and pg_get_userbyid(t.typowner) <> 'supabase_auth_admin' loop
    execute format('alter type %s owner to supabase_auth_admin', f.name);
  end loop;
exception when insufficient_privilege then
  raise notice 'auth functions are owned by another role; left unchanged';
end
$$;
