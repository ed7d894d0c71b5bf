-- Hand-written SQL that Drizzle's schema cannot express. Every file in src/database/sql is idempotent
-- and applied, in name order, after `migrate` (at boot, src/database/database.ts) and after
-- `npm run db:push` (scripts/db-schema.mjs), so a pushed database behaves exactly like a migrated one.
--
-- docs/data-model.md, "Users and athletes": signing up creates one default athlete for the new
-- user. A trigger makes it part of the same transaction as the user insert, whichever code path
-- (better-auth, an admin script) creates the user, so there is never a user without an athlete.
CREATE OR REPLACE FUNCTION create_default_athlete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO athletes (user_id, display_name) VALUES (NEW.id, NEW.name);
  RETURN NEW;
END;
$$;

CREATE OR REPLACE TRIGGER user_default_athlete AFTER INSERT ON "user" FOR EACH ROW EXECUTE FUNCTION create_default_athlete();
