-- Activities' rules that a CHECK or a foreign key cannot hold (docs/data-model.md, "Sessions").
-- Idempotent; src/database/README.md says when these files run.

-- activities.user_id is a copy of the athlete's owner. The composite foreign key
-- (athlete_id, user_id) → athletes (id, user_id) keeps it right; this fills it in for INSERTs
-- that leave it out (hand-written SQL, bulk loads), so no writer has to know about it.
CREATE OR REPLACE FUNCTION activities_fill_user_id() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.user_id IS NULL THEN
    SELECT a.user_id INTO NEW.user_id FROM athletes a WHERE a.id = NEW.athlete_id;
  END IF;
  RETURN NEW;
END;
$$;

CREATE OR REPLACE TRIGGER activities_fill_user_id BEFORE INSERT ON activities
  FOR EACH ROW EXECUTE FUNCTION activities_fill_user_id();

-- Sessions have one level only: a parent must be top-level, and an activity with children cannot
-- become a child. (Same athlete is the composite foreign key activities_parent_fk.)
-- Concurrency: the parent row is locked FOR SHARE, which waits for any transaction changing the
-- parent's own parent_id and then reads its committed value; an UPDATE that gives a row a parent
-- holds that row's lock before this trigger runs, so a concurrent child insert under it (which
-- needs FOR SHARE on it) waits, and this trigger's children check sees children committed before.
CREATE OR REPLACE FUNCTION activities_one_level_sessions() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  grandparent uuid;
BEGIN
  IF NEW.parent_id IS NULL OR (TG_OP = 'UPDATE' AND NEW.parent_id IS NOT DISTINCT FROM OLD.parent_id) THEN
    RETURN NEW;
  END IF;
  SELECT p.parent_id INTO grandparent FROM activities p WHERE p.id = NEW.parent_id FOR SHARE;
  IF grandparent IS NOT NULL THEN
    RAISE EXCEPTION 'the parent is itself a child; sessions have one level only'
      USING ERRCODE = 'check_violation', CONSTRAINT = 'activities_one_level_sessions';
  END IF;
  IF TG_OP = 'UPDATE' AND EXISTS (SELECT 1 FROM activities c WHERE c.parent_id = NEW.id) THEN
    RAISE EXCEPTION 'this activity has children; a child cannot have children of its own'
      USING ERRCODE = 'check_violation', CONSTRAINT = 'activities_one_level_sessions';
  END IF;
  RETURN NEW;
END;
$$;

CREATE OR REPLACE TRIGGER activities_one_level_sessions BEFORE INSERT OR UPDATE OF parent_id ON activities
  FOR EACH ROW EXECUTE FUNCTION activities_one_level_sessions();
