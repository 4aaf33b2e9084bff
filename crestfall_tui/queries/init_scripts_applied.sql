-- (name, checksum) of every init script already applied.
select name, checksum from crestfall.init_scripts
