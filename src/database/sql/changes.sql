-- The change feed (docs/data-model.md, "Change feed"): triggers write one `changes` row per
-- committed write of an activity, stream, athlete, sync state or provider connection (plus one row
-- per finished sync run and per import job reaching a final state), in the
-- writer's own transaction, so every write path (API, sync, imports, duplicates, cascades from an
-- athlete or user delete) is covered and a change is in the feed if and only if it committed.
-- Tombstones (op 'delete') carry ids only. Idempotent; src/database/README.md says when these run.

-- One row of the feed. Its position is the writing transaction's id, raised to the position of the
-- entity's previous change when that one is higher: a transaction that waited for another's row
-- lock on the same entity may have the lower id, and its change must still come after. Readers
-- serve only rows whose position is below the oldest running transaction id
-- (src/modules/changes/changes.repository.ts), so a row never lands behind a served one.
CREATE OR REPLACE FUNCTION change_feed_record(
  p_user_id text, p_athlete_id uuid, p_entity text, p_op text, p_entity_id uuid, p_activity_id uuid, p_revision integer,
  p_inserted boolean
) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  position bigint := pg_current_xact_id()::text::bigint;
  previous bigint;
BEGIN
  SELECT c.pos INTO previous FROM changes c WHERE c.entity_id = p_entity_id ORDER BY c.pos DESC LIMIT 1;
  IF previous IS NOT NULL AND previous > position THEN
    position := previous;
  END IF;
  INSERT INTO changes (pos, user_id, athlete_id, entity, op, entity_id, activity_id, revision, inserted)
    VALUES (position, p_user_id, p_athlete_id, p_entity, p_op, p_entity_id, p_activity_id, p_revision, p_inserted);
END
$$;

-- Activities and streams are written in batches (a sync batch of 500, an import's streams, a
-- regroup's duplicate_of): their rows are recorded once per statement from its transition tables,
-- with the same rule as change_feed_record (the entity's previous position, an UPDATE that changed
-- nothing skipped) — a third of the cost of a row trigger calling it per row (docs/benchmarks.md,
-- "The change feed per statement"). Ids never change on UPDATE, so old and new rows pair by id.
CREATE OR REPLACE FUNCTION activities_change_feed_rows() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  position bigint := pg_current_xact_id()::text::bigint;
BEGIN
  IF TG_OP = 'DELETE' THEN
    INSERT INTO changes (pos, user_id, athlete_id, entity, op, entity_id, activity_id, revision, inserted)
    SELECT greatest(position, p.pos), o.user_id, o.athlete_id, 'activity', 'delete', o.id, o.id, NULL, false
      FROM old_rows o
      LEFT JOIN LATERAL (SELECT c.pos FROM changes c WHERE c.entity_id = o.id ORDER BY c.pos DESC LIMIT 1) p ON true;
  ELSIF TG_OP = 'UPDATE' THEN
    INSERT INTO changes (pos, user_id, athlete_id, entity, op, entity_id, activity_id, revision, inserted)
    SELECT greatest(position, p.pos), n.user_id, n.athlete_id, 'activity', 'upsert', n.id, n.id, n.revision, false
      FROM new_rows n JOIN old_rows o ON o.id = n.id
      LEFT JOIN LATERAL (SELECT c.pos FROM changes c WHERE c.entity_id = n.id ORDER BY c.pos DESC LIMIT 1) p ON true
     WHERE n IS DISTINCT FROM o;
  ELSE
    INSERT INTO changes (pos, user_id, athlete_id, entity, op, entity_id, activity_id, revision, inserted)
    SELECT greatest(position, p.pos), n.user_id, n.athlete_id, 'activity', 'upsert', n.id, n.id, n.revision, true
      FROM new_rows n
      LEFT JOIN LATERAL (SELECT c.pos FROM changes c WHERE c.entity_id = n.id ORDER BY c.pos DESC LIMIT 1) p ON true;
  END IF;
  RETURN NULL;
END
$$;

-- An activity's streams go before it (rather than by the foreign key's cascade, after it), so that
-- their tombstones can still read the activity's athlete and owner.
CREATE OR REPLACE FUNCTION activities_delete_streams_first() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM activity_streams s WHERE s.activity_id = OLD.id;
  RETURN OLD;
END
$$;

CREATE OR REPLACE TRIGGER activities_delete_streams_first BEFORE DELETE ON activities
  FOR EACH ROW EXECUTE FUNCTION activities_delete_streams_first();

-- A stream's rows carry their activity's owner and athlete, read from the activity (per statement,
-- as the activities' above). A stream whose activity is gone cannot be attributed: an error, as a
-- tombstone without an owner would never be served.
CREATE OR REPLACE FUNCTION activity_streams_change_feed_rows() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  position bigint := pg_current_xact_id()::text::bigint;
  orphan activity_streams%ROWTYPE;
BEGIN
  IF TG_OP = 'DELETE' THEN
    SELECT o.* INTO orphan FROM old_rows o WHERE NOT EXISTS (SELECT 1 FROM activities a WHERE a.id = o.activity_id) LIMIT 1;
    IF FOUND THEN
      RAISE EXCEPTION 'change feed: activity % of stream % not found', orphan.activity_id, orphan.id;
    END IF;
    INSERT INTO changes (pos, user_id, athlete_id, entity, op, entity_id, activity_id, revision, inserted)
    SELECT greatest(position, p.pos), a.user_id, a.athlete_id, 'stream', 'delete', o.id, o.activity_id, NULL, false
      FROM old_rows o JOIN activities a ON a.id = o.activity_id
      LEFT JOIN LATERAL (SELECT c.pos FROM changes c WHERE c.entity_id = o.id ORDER BY c.pos DESC LIMIT 1) p ON true;
  ELSIF TG_OP = 'UPDATE' THEN
    INSERT INTO changes (pos, user_id, athlete_id, entity, op, entity_id, activity_id, revision, inserted)
    SELECT greatest(position, p.pos), a.user_id, a.athlete_id, 'stream', 'upsert', n.id, n.activity_id, NULL, false
      FROM new_rows n JOIN old_rows o ON o.id = n.id JOIN activities a ON a.id = n.activity_id
      LEFT JOIN LATERAL (SELECT c.pos FROM changes c WHERE c.entity_id = n.id ORDER BY c.pos DESC LIMIT 1) p ON true
     WHERE n IS DISTINCT FROM o;
  ELSE
    -- The foreign key holds the activity of an inserted or updated stream.
    INSERT INTO changes (pos, user_id, athlete_id, entity, op, entity_id, activity_id, revision, inserted)
    SELECT greatest(position, p.pos), a.user_id, a.athlete_id, 'stream', 'upsert', n.id, n.activity_id, NULL, true
      FROM new_rows n JOIN activities a ON a.id = n.activity_id
      LEFT JOIN LATERAL (SELECT c.pos FROM changes c WHERE c.entity_id = n.id ORDER BY c.pos DESC LIMIT 1) p ON true;
  END IF;
  RETURN NULL;
END
$$;

-- A trigger with transition tables fires on one event (PostgreSQL's rule): three per table, each
-- calling the table's <table>_change_feed_rows(). The row trigger they replace is dropped (databases
-- created before).
DO $$
DECLARE
  t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['activities', 'activity_streams'] LOOP
    EXECUTE format('DROP TRIGGER IF EXISTS %I ON %I', t || '_change_feed', t);
    EXECUTE format('DROP FUNCTION IF EXISTS %I()', t || '_change_feed');
    EXECUTE format('CREATE OR REPLACE TRIGGER %I AFTER INSERT ON %I REFERENCING NEW TABLE AS new_rows '
      'FOR EACH STATEMENT EXECUTE FUNCTION %I()', t || '_change_feed_insert', t, t || '_change_feed_rows');
    EXECUTE format('CREATE OR REPLACE TRIGGER %I AFTER UPDATE ON %I REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows '
      'FOR EACH STATEMENT EXECUTE FUNCTION %I()', t || '_change_feed_update', t, t || '_change_feed_rows');
    EXECUTE format('CREATE OR REPLACE TRIGGER %I AFTER DELETE ON %I REFERENCING OLD TABLE AS old_rows '
      'FOR EACH STATEMENT EXECUTE FUNCTION %I()', t || '_change_feed_delete', t, t || '_change_feed_rows');
  END LOOP;
END
$$;

CREATE OR REPLACE FUNCTION athletes_change_feed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    PERFORM change_feed_record(OLD.user_id, OLD.id, 'athlete', 'delete', OLD.id, NULL, NULL, false);
    RETURN NULL;
  END IF;
  IF TG_OP = 'UPDATE' AND NEW IS NOT DISTINCT FROM OLD THEN
    RETURN NULL;
  END IF;
  PERFORM change_feed_record(NEW.user_id, NEW.id, 'athlete', 'upsert', NEW.id, NULL, NULL, TG_OP = 'INSERT');
  RETURN NULL;
END
$$;

CREATE OR REPLACE TRIGGER athletes_change_feed AFTER INSERT OR UPDATE OR DELETE ON athletes
  FOR EACH ROW EXECUTE FUNCTION athletes_change_feed();

-- A sync state deleted with its athlete (the foreign key's cascade) writes no tombstone of its
-- own: its athlete is gone by then, and the athlete's tombstone says it.
CREATE OR REPLACE FUNCTION sync_states_change_feed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  row_ sync_states%ROWTYPE;
  owner_ text;
BEGIN
  IF TG_OP = 'DELETE' THEN row_ := OLD; ELSE row_ := NEW; END IF;
  IF TG_OP = 'UPDATE' AND NEW IS NOT DISTINCT FROM OLD THEN
    RETURN NULL;
  END IF;
  SELECT a.user_id INTO owner_ FROM athletes a WHERE a.id = row_.athlete_id;
  IF owner_ IS NULL THEN
    RETURN NULL;
  END IF;
  PERFORM change_feed_record(owner_, row_.athlete_id, 'sync_state', CASE WHEN TG_OP = 'DELETE' THEN 'delete' ELSE 'upsert' END,
    row_.id, NULL, NULL, TG_OP = 'INSERT');
  -- A run finished (SyncService.finish: running -> idle or error): one more row, entity 'sync_run'
  -- (webhook event sync.finished), with the sync state's id.
  IF TG_OP = 'UPDATE' AND OLD.status = 'running' AND NEW.status IN ('idle', 'error') THEN
    PERFORM change_feed_record(owner_, row_.athlete_id, 'sync_run', 'upsert', row_.id, NULL, NULL, false);
  END IF;
  RETURN NULL;
END
$$;

CREATE OR REPLACE TRIGGER sync_states_change_feed AFTER INSERT OR UPDATE OR DELETE ON sync_states
  FOR EACH ROW EXECUTE FUNCTION sync_states_change_feed();

CREATE OR REPLACE FUNCTION provider_connections_change_feed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    PERFORM change_feed_record(OLD.user_id, OLD.athlete_id, 'connection', 'delete', OLD.id, NULL, NULL, false);
    RETURN NULL;
  END IF;
  -- The sealed tokens, their expiry and the refresh lease are no part of what a connection shows
  -- (GET …/connections): a token refresh alone is not a change of the connection.
  IF TG_OP = 'UPDATE' AND to_jsonb(NEW) - ARRAY['tokens_ciphertext', 'tokens_key_id', 'token_expires_at', 'refresh_lease_id', 'refresh_lease_until', 'updated_at']
      = to_jsonb(OLD) - ARRAY['tokens_ciphertext', 'tokens_key_id', 'token_expires_at', 'refresh_lease_id', 'refresh_lease_until', 'updated_at'] THEN
    RETURN NULL;
  END IF;
  PERFORM change_feed_record(NEW.user_id, NEW.athlete_id, 'connection', 'upsert', NEW.id, NULL, NULL, TG_OP = 'INSERT');
  RETURN NULL;
END
$$;

CREATE OR REPLACE TRIGGER provider_connections_change_feed AFTER INSERT OR UPDATE OR DELETE ON provider_connections
  FOR EACH ROW EXECUTE FUNCTION provider_connections_change_feed();

-- An import job that reaches a final state (completed or failed) writes one row, entity 'import'
-- (webhook event import.finished); its other writes (progress) are not changes of the timeline.
-- A job deleted with its athlete writes nothing (the athlete's tombstone says it).
CREATE OR REPLACE FUNCTION import_jobs_change_feed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.status NOT IN ('completed', 'failed') THEN
    RETURN NULL;
  END IF;
  IF TG_OP = 'UPDATE' AND OLD.status = NEW.status THEN
    RETURN NULL;
  END IF;
  PERFORM change_feed_record(NEW.user_id, NEW.athlete_id, 'import', 'upsert', NEW.id, NULL, NULL, TG_OP = 'INSERT');
  RETURN NULL;
END
$$;

CREATE OR REPLACE TRIGGER import_jobs_change_feed AFTER INSERT OR UPDATE OF status ON import_jobs
  FOR EACH ROW EXECUTE FUNCTION import_jobs_change_feed();

-- How far the feed has been pruned (ChangesService.prune): one row, there from the start.
INSERT INTO change_feed_horizon (id, pruned_pos, pruned_seq) VALUES (1, 0, 0) ON CONFLICT (id) DO NOTHING;
