-- Each of the stack's extensions: installed version (or null) and whether the server has it.
select wanted.name,
       e.extversion as installed_version,
       a.name is not null as available
from unnest(array['pgcrypto', 'uuid-ossp', 'pg_cron', 'pgaudit', 'pg_stat_statements',
                  'pgjwt', 'pgsodium', 'http']) with ordinality as wanted(name, position)
left join pg_extension e on e.extname = wanted.name
left join pg_available_extensions a on a.name = wanted.name
order by wanted.position
