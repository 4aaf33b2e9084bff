-- Result columns' types named as Postgres names them (integer, text[], an enum's name).
select oid::int, format_type(oid, null) from pg_type where oid = any(%(oids)s)
