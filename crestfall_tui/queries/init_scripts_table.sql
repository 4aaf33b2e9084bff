-- Bookkeeping for the init scripts: which script ran with which content.
create schema if not exists crestfall;
create table if not exists crestfall.init_scripts (
  name text primary key,
  checksum text not null,
  applied_at timestamptz not null default now()
)
