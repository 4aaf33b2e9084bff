-- Extensions: create each of the stack's extensions that this server has.
-- The ones it lacks, and the ones it has but cannot create (pg_cron and pgaudit need
-- shared_preload_libraries, on a server the project did not configure), are reported with a
-- NOTICE (and shown by `stack up` and on the Stack screen), never fatal.
create schema if not exists extensions;

do $$
declare
  wanted constant text[] := array[
    'pgcrypto', 'uuid-ossp', 'pg_cron', 'pgaudit', 'pg_stat_statements', 'pgjwt', 'pgsodium', 'http'];
  -- These choose their own schema (cron, pgsodium); the rest go into "extensions" as on Supabase.
  own_schema constant text[] := array['pg_cron', 'pgsodium'];
  ext text;
begin
  foreach ext in array wanted loop
    if exists (select from pg_extension where extname = ext) then
      continue;
    elsif not exists (select from pg_available_extensions where name = ext) then
      raise notice 'extension % is not available on this server', ext;
    else
      begin
        if ext = any (own_schema) then
          execute format('create extension if not exists %I', ext);
        else
          execute format('create extension if not exists %I with schema extensions', ext);
        end if;
      exception when others then
        raise notice 'extension % could not be created: %', ext, sqlerrm;
      end;
    end if;
  end loop;
end
$$;

-- Functions such as uuid_generate_v4() and crypt() resolve without a schema prefix.
do $$
begin
  execute format('alter database %I set search_path to "$user", public, extensions',
                 current_database());
end
$$;
