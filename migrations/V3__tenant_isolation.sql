-- Issue 12: idempotency keys scoped to the sender, and no SMTP credentials on MX accounts (they would go to any MX host).

DROP INDEX mail.outbox_idempotency_key;
CREATE UNIQUE INDEX outbox_idempotency_key ON mail.outbox (created_by, idempotency_key)
  WHERE idempotency_key IS NOT NULL;

DO $$
DECLARE
  scrubbed text;
BEGIN
  WITH s AS (
    UPDATE mail.account SET username = NULL, password = NULL, auth = NULL, updated_at = now()
     WHERE delivery = 'mx' AND (username IS NOT NULL OR password IS NOT NULL OR auth IS NOT NULL)
    RETURNING name)
  SELECT string_agg(name, ', ') INTO scrubbed FROM s;
  IF scrubbed IS NOT NULL THEN
    RAISE NOTICE 'removed the username, password and auth of MX accounts (credentials are for a relay only): %',
      scrubbed;
  END IF;
END
$$;

ALTER TABLE mail.account ADD CONSTRAINT account_mx_without_credentials
  CHECK (delivery = 'relay' OR (username IS NULL AND password IS NULL AND auth IS NULL));
