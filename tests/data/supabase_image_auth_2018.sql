-- The auth schema the supabase/postgres image creates before any GoTrue has run (its
-- 2018 layout: five tables, seven old versions, three functions), written out from the
-- layout's facts to test an upgrade from it, with one user in it.
create schema auth;
create table auth.users (instance_id uuid, id uuid not null unique, aud varchar(255), "role" varchar(255),
  email varchar(255) unique, encrypted_password varchar(255), confirmed_at timestamptz, invited_at timestamptz,
  confirmation_token varchar(255), confirmation_sent_at timestamptz, recovery_token varchar(255),
  recovery_sent_at timestamptz, email_change_token varchar(255), email_change varchar(255),
  email_change_sent_at timestamptz, last_sign_in_at timestamptz, raw_app_meta_data jsonb,
  raw_user_meta_data jsonb, is_super_admin bool, created_at timestamptz, updated_at timestamptz,
  constraint users_pkey primary key (id));
create index users_instance_id_email_idx on auth.users (instance_id, email);
create index users_instance_id_idx on auth.users (instance_id);
create table auth.refresh_tokens (instance_id uuid, id bigserial not null, "token" varchar(255),
  user_id varchar(255), revoked bool, created_at timestamptz, updated_at timestamptz,
  constraint refresh_tokens_pkey primary key (id));
create index refresh_tokens_instance_id_idx on auth.refresh_tokens (instance_id);
create index refresh_tokens_instance_id_user_id_idx on auth.refresh_tokens (instance_id, user_id);
create index refresh_tokens_token_idx on auth.refresh_tokens (token);
create table auth.instances (id uuid not null, uuid uuid, raw_base_config text, created_at timestamptz,
  updated_at timestamptz, constraint instances_pkey primary key (id));
create table auth.audit_log_entries (instance_id uuid, id uuid not null, payload json, created_at timestamptz,
  constraint audit_log_entries_pkey primary key (id));
create index audit_logs_instance_id_idx on auth.audit_log_entries (instance_id);
create table auth.schema_migrations ("version" varchar(255) not null, constraint schema_migrations_pkey primary key ("version"));
insert into auth.schema_migrations values ('20171026211738'), ('20171026211808'), ('20171026211834'),
  ('20180103212743'), ('20180108183307'), ('20180119214651'), ('20180125194653');
create function auth.uid() returns uuid language sql stable as $$ select nullif(current_setting('request.jwt.claim.sub', true), '')::uuid $$;
create function auth.role() returns text language sql stable as $$ select nullif(current_setting('request.jwt.claim.role', true), '')::text $$;
create function auth.email() returns text language sql stable as $$ select nullif(current_setting('request.jwt.claim.email', true), '')::text $$;
grant all on schema auth to supabase_auth_admin;
alter table auth.users owner to supabase_auth_admin;
alter table auth.refresh_tokens owner to supabase_auth_admin;
alter table auth.audit_log_entries owner to supabase_auth_admin;
alter table auth.instances owner to supabase_auth_admin;
alter table auth.schema_migrations owner to supabase_auth_admin;
insert into auth.users (id, email, aud, role, created_at, updated_at) values ('44444444-4444-4444-4444-444444444444', 'old@x.test', 'authenticated', 'authenticated', now(), now());
