-- Indexes the studio's Users section lists and searches by, so that a million users are
-- paged, sorted and searched without reading the whole table. GoTrue's own indexes serve
-- none of these (its admin API pages with OFFSET and searches with ILIKE '%x%').
-- Email and phone are indexed in the "C" collation, whose order is byte order: a prefix
-- search (LIKE 'ab%') then uses the same index as the sort, whatever the database's
-- collation. (The last sign-in key is immutable, as an index needs: to_timestamp(float8).)
create index if not exists crestfall_users_created_idx on auth.users (created_at, id);
create index if not exists crestfall_users_last_sign_in_idx
  on auth.users ((coalesce(last_sign_in_at, to_timestamp('-infinity'::float8))), id);
create index if not exists crestfall_users_email_idx
  on auth.users ((coalesce(lower(email), '') collate "C"), id);
create index if not exists crestfall_users_phone_idx
  on auth.users ((coalesce(phone, '') collate "C"), id);
-- Sessions not refreshed for days (the Sessions view's anomalies).
-- (refreshed_at is a UTC timestamp without time zone, as GoTrue writes it.)
create index if not exists crestfall_sessions_refreshed_idx on auth.sessions (refreshed_at);
-- All sessions newest first, paged by key (the Sessions view).
create index if not exists crestfall_sessions_created_idx on auth.sessions (created_at, id);
-- A user's audit log entries (the detail panel): GoTrue indexes only instance_id.
create index if not exists crestfall_audit_log_actor_idx
  on auth.audit_log_entries ((payload ->> 'actor_id'));
create index if not exists crestfall_audit_log_user_idx
  on auth.audit_log_entries ((payload -> 'traits' ->> 'user_id'));
