-- No-op since issue 23. This migration created the default-athlete trigger (create_default_athlete,
-- user_default_athlete), which src/database/sql/default_athlete.sql then replaced after every
-- migrate: that file is now its one definition (src/database/README.md). Drizzle's migrator runs a
-- migration by its journal time and never compares the hash it stored, so a database that ran the
-- old text is unaffected (test/integration/migration-ledger.spec.ts).
SELECT 1;
