-- Record that an init script ran with this content.
insert into crestfall.init_scripts (name, checksum) values (%(name)s, %(checksum)s)
on conflict (name) do update set checksum = excluded.checksum, applied_at = now()
