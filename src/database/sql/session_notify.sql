-- Every change that must end cached sessions (a session deleted: sign-out, revoke, password reset,
-- user deletion; a password changed) sends NOTIFY auth_session_changed with the user id; every API
-- replica LISTENs and evicts that user's cached sessions (src/modules/auth/session-revocations.ts).
-- Idempotent; src/database/README.md says when these files run.
CREATE OR REPLACE FUNCTION notify_auth_session_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('auth_session_changed', OLD.user_id);
  RETURN NULL;
END;
$$;

CREATE OR REPLACE TRIGGER session_deleted_notify AFTER DELETE ON "session"
  FOR EACH ROW EXECUTE FUNCTION notify_auth_session_changed();

CREATE OR REPLACE TRIGGER account_password_changed_notify AFTER UPDATE OF "password" ON "account"
  FOR EACH ROW WHEN (OLD.password IS DISTINCT FROM NEW.password) EXECUTE FUNCTION notify_auth_session_changed();
