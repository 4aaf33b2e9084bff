-- Whether the init-script bookkeeping table exists yet.
select to_regclass('crestfall.init_scripts') is not null
