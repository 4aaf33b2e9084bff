-- Whether a role exists without a password (true), has one (false), or does not exist (no row).
select rolpassword is null from pg_authid where rolname = %(role)s
