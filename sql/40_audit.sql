-- Audit: audit.track(table) records every insert, update and delete on that table
-- (old and new row as jsonb, the request's user, the database role, the time) in
-- audit.record_changes; audit.untrack(table) stops it. pgaudit's statement log is set up
-- where the extension exists.
create schema if not exists audit;

create table if not exists audit.record_changes (
  id bigserial primary key,
  table_oid oid not null,
  table_schema name not null,
  table_name name not null,
  op text not null check (op in ('INSERT', 'UPDATE', 'DELETE')),
  old_record jsonb,
  new_record jsonb,
  actor uuid,
  db_role text not null,
  changed_at timestamptz not null default clock_timestamp(),
  txid bigint not null default txid_current()
);
create index if not exists record_changes_table_idx
  on audit.record_changes (table_oid, changed_at desc);
create index if not exists record_changes_actor_idx on audit.record_changes (actor);

-- SECURITY DEFINER so that any role allowed to write the table is also audited; the role
-- it ran as is taken from the session's SET ROLE (PostgREST's) or its login.
create or replace function audit.record_change() returns trigger
  language plpgsql security definer set search_path = '' as $$
begin
  insert into audit.record_changes
    (table_oid, table_schema, table_name, op, old_record, new_record, actor, db_role)
  values (
    tg_relid, tg_table_schema, tg_table_name, tg_op,
    case when tg_op in ('UPDATE', 'DELETE') then to_jsonb(old) end,
    case when tg_op in ('INSERT', 'UPDATE') then to_jsonb(new) end,
    auth.uid(),
    coalesce(nullif(current_setting('role', true), 'none'), session_user)
  );
  return null;
end
$$;

create or replace function audit.track(target regclass) returns void
  language plpgsql as $$
begin
  execute format('drop trigger if exists crestfall_audit on %s', target);
  execute format(
    'create trigger crestfall_audit after insert or update or delete on %s '
    'for each row execute function audit.record_change()', target);
end
$$;

create or replace function audit.untrack(target regclass) returns void
  language plpgsql as $$
begin
  execute format('drop trigger if exists crestfall_audit on %s', target);
end
$$;

-- pgaudit: statement-level audit of schema and role changes, written to the server log.
do $$
begin
  if exists (select from pg_extension where extname = 'pgaudit') then
    execute format('alter database %I set pgaudit.log = %L', current_database(), 'ddl, role');
    execute format('alter database %I set pgaudit.log_relation = on', current_database());
  end if;
exception when insufficient_privilege then
  raise notice 'pgaudit settings need a superuser; left unchanged';
end
$$;
