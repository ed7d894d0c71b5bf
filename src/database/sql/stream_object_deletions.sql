-- The deletion outbox for stream objects (docs/data-model.md, "Streams"). Whenever an
-- activity_streams row is deleted (directly, or by the cascade from activities, athletes or users)
-- or swapped to a new object key, the key it pointed at is queued in stream_object_deletions in the
-- same transaction; StreamObjectDrain removes the objects. Idempotent; src/database/README.md
-- says when these files run.
CREATE OR REPLACE FUNCTION activity_streams_enqueue_object_deletion() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    INSERT INTO stream_object_deletions (object_key, reason) VALUES (OLD.object_key, 'deleted')
      ON CONFLICT (object_key) DO NOTHING;
    RETURN OLD;
  END IF;
  IF NEW.object_key IS DISTINCT FROM OLD.object_key THEN
    INSERT INTO stream_object_deletions (object_key, reason) VALUES (OLD.object_key, 'superseded')
      ON CONFLICT (object_key) DO NOTHING;
  END IF;
  RETURN NEW;
END
$$;

CREATE OR REPLACE TRIGGER activity_streams_enqueue_object_deletion
  AFTER DELETE OR UPDATE OF object_key ON activity_streams
  FOR EACH ROW EXECUTE FUNCTION activity_streams_enqueue_object_deletion();
