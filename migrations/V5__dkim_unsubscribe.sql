-- DKIM keys, the one-click unsubscribe secret, suppression by kind and profile, and the list_unsubscribe flag of a mail.

-- One signing key per (domain, selector). private_key is PKCS#8 DER; public_key is what the DNS
-- record publishes as p= (SubjectPublicKeyInfo DER for rsa-sha256, the 32-octet key for ed25519-sha256).
CREATE TABLE mail.dkim_key (
  id          int GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  domain      text NOT NULL CHECK (domain = lower(domain)),
  selector    text NOT NULL CHECK (selector = lower(selector)),
  algorithm   text NOT NULL CHECK (algorithm IN ('rsa-sha256', 'ed25519-sha256')),
  private_key bytea NOT NULL,
  public_key  bytea NOT NULL,
  key_bits    int NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
  created_by  name NOT NULL DEFAULT current_user,
  UNIQUE (domain, selector)
);

-- The HMAC-SHA256 secret that makes unsubscribe tokens unguessable: one row, made here from the
-- server's strong random source (gen_random_uuid: 122 random bits each, 244 in all).
CREATE TABLE mail.unsubscribe_secret (
  id         boolean PRIMARY KEY DEFAULT true CHECK (id),
  secret     bytea NOT NULL CHECK (octet_length(secret) >= 32),
  created_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO mail.unsubscribe_secret (secret)
VALUES (decode(replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', ''), 'hex'));

-- A suppression is a bounce (the dispatcher's), an unsubscribe (the one-click endpoint's, for list
-- mail of one profile) or manual (mail.suppress); profile_id NULL means every profile.
ALTER TABLE mail.suppression
  ADD COLUMN kind text NOT NULL DEFAULT 'bounce' CHECK (kind IN ('bounce', 'unsubscribe', 'manual')),
  ADD COLUMN profile_id int REFERENCES mail.profile ON DELETE CASCADE;
ALTER TABLE mail.suppression DROP CONSTRAINT suppression_pkey;
ALTER TABLE mail.suppression
  ADD CONSTRAINT suppression_address_profile UNIQUE NULLS NOT DISTINCT (address, profile_id);

-- Mail sent with list_unsubscribe => true carries List-Unsubscribe and List-Unsubscribe-Post (RFC 8058).
ALTER TABLE mail.outbox ADD COLUMN list_unsubscribe boolean NOT NULL DEFAULT false;
