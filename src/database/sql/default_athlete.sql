-- docs/data-model.md, "Users and athletes": signing up creates one default athlete for the new
-- user. A trigger makes it part of the same transaction as the user insert, whichever code path
-- (better-auth, an admin script) creates the user, so there is never a user without an athlete.
-- Defined here only (migration 0001 once created it too and is now a no-op): src/database/README.md.
-- Idempotent; src/database/README.md says when these files run.
CREATE OR REPLACE FUNCTION create_default_athlete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO athletes (user_id, display_name) VALUES (NEW.id, NEW.name);
  RETURN NEW;
END;
$$;

CREATE OR REPLACE TRIGGER user_default_athlete AFTER INSERT ON "user" FOR EACH ROW EXECUTE FUNCTION create_default_athlete();
