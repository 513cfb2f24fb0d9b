-- Least-privilege ClickHouse users for correlator (ClickHouse 20.4+ SQL-driven access control).
-- Run once as an administrator, with the placeholders filled in:
--   ${database}                the correlator database (CORRELATOR_DATABASE)
--   ${daemon_password_sha256}  hex SHA-256 of the daemon's password  (printf %s 'the password' | sha256sum)
--   ${reader_password_sha256}  hex SHA-256 of the incident reader's password
-- Schema changes need more than these users have: run `correlator migrate` as an administrator
-- (for example a deploy job) and start the daemon with --no-migrate (CORRELATOR_MIGRATE=false).

-- the daemon: stores rows and dead letters, reads back what it stored to resume after a crash
CREATE USER IF NOT EXISTS correlator_daemon
    IDENTIFIED WITH sha256_hash BY '${daemon_password_sha256}'
    DEFAULT DATABASE ${database};
GRANT SELECT, INSERT ON ${database}.* TO correlator_daemon;

-- incident commands (lookup, trace, incidents, report) and dashboards: read only
CREATE USER IF NOT EXISTS correlator_reader
    IDENTIFIED WITH sha256_hash BY '${reader_password_sha256}'
    DEFAULT DATABASE ${database};
GRANT SELECT ON ${database}.* TO correlator_reader;
