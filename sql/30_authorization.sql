-- Authorization: roles, the permissions they carry, and which users hold them;
-- is_authorized(permission) answers for the request's user (auth.uid()) and is meant for
-- row-level security policies, e.g.
--   create policy "editors write" on posts for update using (is_authorized('posts.update'));
create schema if not exists authz;

create table if not exists authz.roles (
  name text primary key,
  description text not null default ''
);

create table if not exists authz.permissions (
  name text primary key,
  description text not null default ''
);

create table if not exists authz.role_permissions (
  role text not null references authz.roles (name) on update cascade on delete cascade,
  permission text not null references authz.permissions (name) on update cascade on delete cascade,
  primary key (role, permission)
);

create table if not exists authz.user_roles (
  user_id uuid not null references auth.users (id) on delete cascade,
  role text not null references authz.roles (name) on update cascade on delete cascade,
  granted_at timestamptz not null default now(),
  primary key (user_id, role)
);
create index if not exists user_roles_role_idx on authz.user_roles (role);

-- SECURITY DEFINER so that policies can call it for roles that cannot read authz.*;
-- an empty search_path so that nothing a caller creates can stand in for these tables.
create or replace function public.is_authorized(permission text) returns boolean
  language sql stable security definer set search_path = '' as $$
    select exists (
      select
      from authz.user_roles ur
      join authz.role_permissions rp on rp.role = ur.role
      where ur.user_id = auth.uid()
        and rp.permission = is_authorized.permission
    )
  $$;

revoke all on function public.is_authorized(text) from public;
grant execute on function public.is_authorized(text) to anon, authenticated, service_role;
grant usage on schema authz to service_role;
grant select, insert, update, delete on all tables in schema authz to service_role;
