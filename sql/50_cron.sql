-- Cron: the studio's own log of the runs it starts by hand ("run now"), kept beside
-- pg_cron's cron.job_run_details (which only pg_cron writes). The Cron section shows both in
-- a job's history, these marked manual. Made whether or not pg_cron is installed.
create schema if not exists crestfall;

create table if not exists crestfall.cron_runs (
  runid bigint generated always as identity primary key,
  jobid bigint not null,
  command text not null,
  database text not null,
  username text not null,
  status text not null check (status in ('running', 'succeeded', 'failed')),
  return_message text,
  job_pid integer,
  start_time timestamptz not null default clock_timestamp(),
  end_time timestamptz,
  run_by text not null default session_user
);
create index if not exists cron_runs_job_idx on crestfall.cron_runs (jobid, runid);
create index if not exists cron_runs_start_idx on crestfall.cron_runs (start_time);

-- Only the studio's logins write it; the API roles see nothing.
revoke all on crestfall.cron_runs from public;
