-- Roles: PostgREST's API roles, its login role, and GoTrue's admin role.
-- Created only when missing (the supabase/postgres image already has them). The login
-- roles' passwords are set by crestfall-tui from the stack's secrets, never written here.
do $$
begin
  if not exists (select from pg_roles where rolname = 'anon') then
    create role anon nologin noinherit;
  end if;
  if not exists (select from pg_roles where rolname = 'authenticated') then
    create role authenticated nologin noinherit;
  end if;
  if not exists (select from pg_roles where rolname = 'service_role') then
    create role service_role nologin noinherit bypassrls;
  end if;
  if not exists (select from pg_roles where rolname = 'authenticator') then
    create role authenticator login noinherit;
  end if;
  if not exists (select from pg_roles where rolname = 'supabase_auth_admin') then
    create role supabase_auth_admin login noinherit createrole noreplication;
  end if;
  -- Read-only sessions of crestfall-tui log in as crestfall_readonly, which inherits no
  -- privilege, and read as crestfall_reader (pg_read_all_data); they may become the API
  -- roles to run as them, always inside a transaction the studio has made read-only for
  -- good. So no statement of a read-only session can write.
  if not exists (select from pg_roles where rolname = 'crestfall_reader') then
    create role crestfall_reader nologin;
  end if;
  if not exists (select from pg_roles where rolname = 'crestfall_readonly') then
    create role crestfall_readonly login noinherit;
  end if;
end
$$;

grant pg_read_all_data to crestfall_reader;
-- A read-only session sees what the superuser sees, less the writes: GoTrue's auth tables
-- have row-level security on with no policy, which would hide every user from it.
alter role crestfall_reader bypassrls;
grant crestfall_reader, anon, authenticated, service_role to crestfall_readonly;
alter role crestfall_readonly set default_transaction_read_only = on;

-- PostgREST logs in as authenticator and switches to the role a request's JWT names.
grant anon, authenticated, service_role to authenticator;

grant usage on schema public to anon, authenticated, service_role;
grant usage on schema extensions to anon, authenticated, service_role;
alter default privileges in schema public
  grant all on tables to anon, authenticated, service_role;
alter default privileges in schema public
  grant all on functions to anon, authenticated, service_role;
alter default privileges in schema public
  grant all on sequences to anon, authenticated, service_role;

alter role anon set statement_timeout = '3s';
alter role authenticated set statement_timeout = '8s';

-- PostgREST reloads its schema cache after every DDL statement.
create or replace function extensions.pgrst_watch() returns event_trigger
  language plpgsql as $$
begin
  notify pgrst, 'reload schema';
end
$$;

do $$
begin
  if not exists (select from pg_event_trigger where evtname = 'pgrst_watch') then
    create event trigger pgrst_watch on ddl_command_end execute function extensions.pgrst_watch();
  end if;
end
$$;
