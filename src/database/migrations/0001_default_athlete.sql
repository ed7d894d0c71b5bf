-- DATA-MODEL §2: signing up creates one default athlete for the new user. A trigger makes it part of
-- the same transaction as the user insert, whichever code path (better-auth, an admin script) creates
-- the user, so there is never a user without an athlete.
CREATE FUNCTION create_default_athlete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO athletes (user_id, display_name) VALUES (NEW.id, NEW.name);
  RETURN NEW;
END;
$$;
--> statement-breakpoint
CREATE TRIGGER user_default_athlete AFTER INSERT ON "user" FOR EACH ROW EXECUTE FUNCTION create_default_athlete();
