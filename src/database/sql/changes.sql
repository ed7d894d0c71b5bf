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

CREATE OR REPLACE FUNCTION activities_change_feed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    PERFORM change_feed_record(OLD.user_id, OLD.athlete_id, 'activity', 'delete', OLD.id, OLD.id, NULL, false);
    RETURN NULL;
  END IF;
  IF TG_OP = 'UPDATE' AND NEW IS NOT DISTINCT FROM OLD THEN
    RETURN NULL;
  END IF;
  PERFORM change_feed_record(NEW.user_id, NEW.athlete_id, 'activity', 'upsert', NEW.id, NEW.id, NEW.revision, TG_OP = 'INSERT');
  RETURN NULL;
END
$$;

CREATE OR REPLACE TRIGGER activities_change_feed AFTER INSERT OR UPDATE OR DELETE ON activities
  FOR EACH ROW EXECUTE FUNCTION activities_change_feed();

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

CREATE OR REPLACE FUNCTION activity_streams_change_feed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  row_ activity_streams%ROWTYPE;
  owner_ text;
  athlete_ uuid;
BEGIN
  IF TG_OP = 'DELETE' THEN row_ := OLD; ELSE row_ := NEW; END IF;
  IF TG_OP = 'UPDATE' AND NEW IS NOT DISTINCT FROM OLD THEN
    RETURN NULL;
  END IF;
  SELECT a.user_id, a.athlete_id INTO owner_, athlete_ FROM activities a WHERE a.id = row_.activity_id;
  IF owner_ IS NULL THEN
    RAISE EXCEPTION 'change feed: activity % of stream % not found', row_.activity_id, row_.id;
  END IF;
  PERFORM change_feed_record(owner_, athlete_, 'stream', CASE WHEN TG_OP = 'DELETE' THEN 'delete' ELSE 'upsert' END,
    row_.id, row_.activity_id, NULL, TG_OP = 'INSERT');
  RETURN NULL;
END
$$;

CREATE OR REPLACE TRIGGER activity_streams_change_feed AFTER INSERT OR UPDATE OR DELETE ON activity_streams
  FOR EACH ROW EXECUTE FUNCTION activity_streams_change_feed();

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
