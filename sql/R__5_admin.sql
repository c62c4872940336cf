-- Settings, accounts and profiles, the suppression list, and cancel / retry / purge of mails.

-- The effective value of a setting: the configured one, else the default. Unknown names raise MA012.
CREATE OR REPLACE FUNCTION mail.setting(name text) RETURNS text
LANGUAGE plpgsql STABLE AS $$
DECLARE
  result text;
BEGIN
  SELECT coalesce(s.value, s.default_value) INTO result FROM mail.setting s WHERE s.name = setting.name;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'unknown setting: %', setting.name USING ERRCODE = 'MA012';
  END IF;
  RETURN result;
END
$$;

-- The normal form of value for a setting of the given kind; raises MA013 naming the bad value.
CREATE OR REPLACE FUNCTION mail.normalize_setting(name text, kind text, value text) RETURNS text
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
  items text[];
  item text;
  result text;
BEGIN
  BEGIN
    CASE kind
      WHEN 'positive_interval' THEN
        IF value::interval <= interval '0' THEN RAISE invalid_parameter_value; END IF;
        result := btrim(value);
      WHEN 'timeout' THEN
        IF value::interval NOT BETWEEN interval '1 second' AND interval '1 hour' THEN
          RAISE invalid_parameter_value;
        END IF;
        result := btrim(value);
      WHEN 'interval_list' THEN
        items := ARRAY(SELECT btrim(x) FROM unnest(string_to_array(value, ',')) x);
        FOREACH item IN ARRAY items LOOP
          IF item::interval <= interval '0' THEN RAISE invalid_parameter_value; END IF;
        END LOOP;
        IF cardinality(items) = 0 THEN RAISE invalid_parameter_value; END IF;
        result := array_to_string(items, ', ');
      WHEN 'positive_int' THEN
        IF value::int <= 0 THEN RAISE invalid_parameter_value; END IF;
        result := value::int::text;
      WHEN 'positive_bigint' THEN
        IF value::bigint <= 0 THEN RAISE invalid_parameter_value; END IF;
        result := value::bigint::text;
      WHEN 'port' THEN
        IF value::int NOT BETWEEN 1 AND 65535 THEN RAISE invalid_parameter_value; END IF;
        result := value::int::text;
      WHEN 'boolean' THEN
        result := value::boolean::text;
      WHEN 'extension_list' THEN
        items := ARRAY(SELECT lower(ltrim(btrim(x), '.')) FROM unnest(string_to_array(value, ',')) x
                        WHERE btrim(x) <> '');
        IF EXISTS (SELECT 1 FROM unnest(items) x WHERE x !~ '^[a-z0-9_~-]+$') THEN
          RAISE invalid_parameter_value;
        END IF;
        result := array_to_string(items, ',');
      WHEN 'enhanced_code_list' THEN
        items := ARRAY(SELECT btrim(x) FROM unnest(string_to_array(value, ',')) x WHERE btrim(x) <> '');
        IF cardinality(items) = 0
           OR EXISTS (SELECT 1 FROM unnest(items) x WHERE x !~ '^[245]\.[0-9]{1,3}\.[0-9]{1,3}$') THEN
          RAISE invalid_parameter_value;
        END IF;
        result := array_to_string(items, ',');
      WHEN 'host_list' THEN
        items := ARRAY(SELECT btrim(x) FROM unnest(string_to_array(value, ',')) x WHERE btrim(x) <> '');
        IF cardinality(items) = 0
           OR EXISTS (SELECT 1 FROM unnest(items) x WHERE x !~ '^[A-Za-z0-9.:\[\]-]+$') THEN
          RAISE invalid_parameter_value;
        END IF;
        result := array_to_string(items, ',');
      WHEN 'url' THEN
        result := rtrim(btrim(value), '/');
        IF result !~ '^https?://[A-Za-z0-9.:\[\]-]+(/[^\s?#<>"]*)?$' THEN RAISE invalid_parameter_value; END IF;
      WHEN 'address' THEN
        result := btrim(value);
        IF NOT mail.is_valid_address(result) THEN RAISE invalid_parameter_value; END IF;
      ELSE
        RAISE EXCEPTION 'setting % has unknown kind %', name, kind;
    END CASE;
  EXCEPTION WHEN data_exception OR invalid_parameter_value THEN
    RAISE EXCEPTION 'invalid value for setting %: % (expected %)', name, value,
      CASE kind WHEN 'timeout' THEN 'an interval from 1 second to 1 hour' ELSE replace(kind, '_', ' ') END
      USING ERRCODE = 'MA013';
  END;
  RETURN result;
END
$$;

-- Sets a global setting (NULL restores the default); returns the effective value.
CREATE OR REPLACE FUNCTION mail.configure(name text, value text) RETURNS text
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM 1 FROM mail.setting s WHERE s.name = configure.name FOR UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'unknown setting: % (known: %)', configure.name,
      (SELECT string_agg(s.name, ', ' ORDER BY s.name) FROM mail.setting s) USING ERRCODE = 'MA012';
  END IF;
  UPDATE mail.setting s
     SET value = CASE WHEN configure.value IS NULL THEN NULL
                      ELSE mail.normalize_setting(configure.name, s.kind, configure.value) END
   WHERE s.name = configure.name;
  RETURN mail.setting(configure.name);
END
$$;

-- A name for EHLO/HELO as the SMTP client accepts it (RFC 5321 §4.1.4): a domain or an address literal.
CREATE OR REPLACE FUNCTION mail.is_valid_helo_name(name text) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT length(name) <= 255
     AND (name ~ '^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$'
          OR name ~ '^\[([0-9]{1,3}(\.[0-9]{1,3}){3}|IPv6:[0-9A-Fa-f:.]+)\]$')
$$;

-- Raises MA016 (MA002, MA003) for account settings that add_account and update_account refuse; warns
-- about settings that are accepted but cannot work as they seem to (credentials with tls 'none').
CREATE OR REPLACE FUNCTION mail.check_account(
  name text, host text, port int, tls text, username text, password text, auth text,
  from_address text, display_name text, reply_to text, helo_name text, delivery text,
  max_connections int, rate_per_minute int
) RETURNS void
LANGUAGE plpgsql AS $$
#variable_conflict use_variable
BEGIN
  IF name IS NULL OR btrim(name) = '' THEN
    RAISE EXCEPTION 'account name is empty' USING ERRCODE = 'MA016';
  END IF;
  IF tls IS NULL OR tls NOT IN ('none', 'starttls', 'starttls_required', 'implicit') THEN
    RAISE EXCEPTION 'invalid tls for account %: % (expected none, starttls, starttls_required or implicit)',
      name, tls USING ERRCODE = 'MA016';
  END IF;
  IF auth IS NOT NULL AND lower(auth) NOT IN ('plain', 'login', 'xoauth2') THEN
    RAISE EXCEPTION 'invalid auth for account %: % (expected plain, login, xoauth2 or NULL)', name, auth
      USING ERRCODE = 'MA016';
  END IF;
  IF delivery IS NULL OR delivery NOT IN ('relay', 'mx') THEN
    RAISE EXCEPTION 'invalid delivery for account %: % (expected relay or mx)', name, delivery
      USING ERRCODE = 'MA016';
  END IF;
  IF delivery = 'relay' AND (host IS NULL OR btrim(host) = '') THEN
    RAISE EXCEPTION 'account % delivers through a relay but has no host', name USING ERRCODE = 'MA016';
  END IF;
  IF port IS NULL OR port NOT BETWEEN 1 AND 65535 THEN
    RAISE EXCEPTION 'invalid port for account %: %', name, port USING ERRCODE = 'MA016';
  END IF;
  IF max_connections IS NULL OR max_connections < 1 OR rate_per_minute < 1 THEN
    RAISE EXCEPTION 'account % needs max_connections >= 1 and rate_per_minute NULL or >= 1 (got %, %)',
      name, max_connections, rate_per_minute USING ERRCODE = 'MA016';
  END IF;
  IF delivery = 'mx' AND (username IS NOT NULL OR password IS NOT NULL OR auth IS NOT NULL) THEN
    RAISE EXCEPTION 'account % delivers to MX hosts and takes no username, password or auth: credentials are for a relay only',
      name USING ERRCODE = 'MA016';
  END IF;
  IF (username IS NULL) <> (password IS NULL) THEN
    RAISE EXCEPTION 'account % has a % without a %: give both or neither', name,
      CASE WHEN username IS NULL THEN 'password' ELSE 'username' END,
      CASE WHEN username IS NULL THEN 'username' ELSE 'password' END USING ERRCODE = 'MA016';
  END IF;
  PERFORM mail.check_header_value(display_name, 'display_name');
  PERFORM mail.check_header_value(helo_name, 'helo_name');
  -- The same rule as the SMTP client's (SmtpSettings): a domain name or an address literal.
  IF helo_name IS NOT NULL AND NOT mail.is_valid_helo_name(helo_name) THEN
    RAISE EXCEPTION 'invalid helo_name for account %: % (expected a domain name or an address literal like [192.0.2.1])',
      name, helo_name USING ERRCODE = 'MA016';
  END IF;
  PERFORM mail.check_header_value(username, 'username');
  -- A secret is never shown, not even in an error.
  IF strpos(password, E'\r') > 0 OR strpos(password, E'\n') > 0 THEN
    RAISE EXCEPTION 'line break in the password of account % (the value is not shown)', name
      USING ERRCODE = 'MA003';
  END IF;
  IF from_address IS NOT NULL
     AND (SELECT count(*) FROM mail.parse_addresses(from_address, 'from_address')) <> 1 THEN
    RAISE EXCEPTION 'from_address must be exactly one address: %', from_address USING ERRCODE = 'MA002';
  END IF;
  PERFORM mail.parse_addresses(reply_to, 'reply_to');
  IF tls = 'none' AND username IS NOT NULL THEN
    RAISE WARNING 'account % has tls ''none'' and a username and password: AUTH will never be sent, because Postroom never sends credentials over an unencrypted connection (its own rule, not the server''s); every delivery through it is deferred with 4.7.0 until tls is ''starttls_required'' or ''implicit''',
      name;
  END IF;
END
$$;

CREATE OR REPLACE FUNCTION mail.add_account(
  name text, host text DEFAULT NULL, port int DEFAULT 587, tls text DEFAULT 'starttls_required',
  tls_verify boolean DEFAULT true, tls_ca_pem text DEFAULT NULL,
  username text DEFAULT NULL, password text DEFAULT NULL, auth text DEFAULT NULL,
  from_address text DEFAULT NULL, display_name text DEFAULT NULL, reply_to text DEFAULT NULL,
  helo_name text DEFAULT NULL, delivery text DEFAULT 'relay', max_connections int DEFAULT 4,
  rate_per_minute int DEFAULT NULL
) RETURNS int
LANGUAGE plpgsql AS $$
#variable_conflict use_variable
DECLARE
  new_id int;
BEGIN
  PERFORM mail.check_account(name, host, port, tls, username, password, auth, from_address,
                             display_name, reply_to, helo_name, delivery, max_connections,
                             rate_per_minute);
  IF EXISTS (SELECT 1 FROM mail.account a WHERE a.name = add_account.name) THEN
    RAISE EXCEPTION 'account % already exists; change it with mail.update_account(%, ...)', name,
      quote_literal(name) USING ERRCODE = 'MA016';
  END IF;
  INSERT INTO mail.account AS a (name, host, port, tls, tls_verify, tls_ca_pem, username, password, auth,
                                 from_address, display_name, reply_to, helo_name, delivery,
                                 max_connections, rate_per_minute)
  VALUES (name, host, port, tls, coalesce(tls_verify, true), tls_ca_pem, username, password, lower(auth),
          from_address, display_name, reply_to, helo_name, delivery, max_connections, rate_per_minute)
  RETURNING a.id INTO new_id;
  RETURN new_id;
END
$$;

-- Creates a profile; is_default => true makes it the default, replacing the previous default.
-- A profile that is not public may be used only by roles granted it (mail.grant_profile).
DROP FUNCTION IF EXISTS mail.add_profile(text, text, boolean);
CREATE OR REPLACE FUNCTION mail.add_profile(name text, description text DEFAULT NULL,
                                            is_default boolean DEFAULT false,
                                            is_public boolean DEFAULT true) RETURNS int
LANGUAGE plpgsql AS $$
#variable_conflict use_variable
DECLARE
  new_id int;
BEGIN
  IF name IS NULL OR btrim(name) = '' THEN
    RAISE EXCEPTION 'profile name is empty' USING ERRCODE = 'MA016';
  END IF;
  IF EXISTS (SELECT 1 FROM mail.profile p WHERE p.name = add_profile.name) THEN
    RAISE EXCEPTION 'profile % already exists; change it with mail.update_profile(%, ...)', name,
      quote_literal(name) USING ERRCODE = 'MA016';
  END IF;
  IF is_default THEN
    UPDATE mail.profile p SET is_default = false WHERE p.is_default;
  END IF;
  INSERT INTO mail.profile AS p (name, description, is_default, is_public)
  VALUES (name, description, coalesce(is_default, false), coalesce(is_public, true))
  RETURNING p.id INTO new_id;
  RETURN new_id;
END
$$;

-- Adds an account to a profile, or moves it, at the given place in the failover order (lowest first).
CREATE OR REPLACE FUNCTION mail.add_profile_account(profile_name text, account_name text, sequence int)
RETURNS void
LANGUAGE plpgsql AS $$
#variable_conflict use_variable
DECLARE
  pid int;
  aid int;
BEGIN
  SELECT p.id INTO pid FROM mail.profile p WHERE p.name = profile_name;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'unknown profile: %', profile_name USING ERRCODE = 'MA004';
  END IF;
  SELECT a.id INTO aid FROM mail.account a WHERE a.name = account_name;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'unknown account: %', account_name USING ERRCODE = 'MA016';
  END IF;
  IF sequence IS NULL THEN
    RAISE EXCEPTION 'sequence is required for account % in profile %', account_name, profile_name
      USING ERRCODE = 'MA016';
  END IF;
  INSERT INTO mail.profile_account AS pa (profile_id, account_id, sequence) VALUES (pid, aid, sequence)
  ON CONFLICT ON CONSTRAINT profile_account_pkey DO UPDATE SET sequence = EXCLUDED.sequence;
END
$$;

-- The role a SECURITY DEFINER function acts for: the session's SET ROLE, else its login. Inside such
-- a function current_user is the function's owner, but the role setting is the caller's (and no
-- SECURITY DEFINER function may change it). Not granted to anyone: only Postroom's functions use it.
CREATE OR REPLACE FUNCTION mail.caller() RETURNS name
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
  SELECT CASE WHEN current_setting('role') = 'none' THEN session_user
              ELSE current_setting('role')::name END
$$;

-- Whether role may change every sender's mail: mail_admin, mail_dispatcher, a superuser or the
-- schema owner (what row security lets see every row).
CREATE OR REPLACE FUNCTION mail.is_staff(role name) RETURNS boolean
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
  SELECT pg_has_role(role, 'mail_admin', 'USAGE') OR pg_has_role(role, 'mail_dispatcher', 'USAGE')
      OR EXISTS (SELECT 1 FROM pg_roles r WHERE r.rolname = role AND r.rolsuper)
      OR pg_has_role(role, (SELECT n.nspowner FROM pg_namespace n WHERE n.nspname = 'mail'), 'USAGE')
$$;

-- The roles whose privileges role has (itself included); a mail of a dropped role matches none.
CREATE OR REPLACE FUNCTION mail.roles_of(role name) RETURNS name[]
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
  SELECT array_agg(r.rolname) FROM pg_roles r WHERE pg_has_role(role, r.oid, 'USAGE')
$$;

-- Whether the caller may change a mail of owner: its own (or a role whose privileges it has), or
-- any mail for staff.
CREATE OR REPLACE FUNCTION mail.may_change(owner name) RETURNS boolean
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
  SELECT owner = ANY (mail.roles_of(c.me)) OR mail.is_staff(c.me) FROM (SELECT mail.caller() AS me) c
$$;

-- Cancels a mail that is queued or waiting for a retry; false when it is in any other state or is not
-- the caller's. SECURITY DEFINER: senders have no UPDATE on mail.outbox.
CREATE OR REPLACE FUNCTION mail.cancel(mail_id bigint) RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_variable
DECLARE
  owner name;
BEGIN
  UPDATE mail.outbox o SET status = 'cancelled', updated_at = now()
   WHERE o.id = mail_id AND o.status IN ('queued', 'retrying') AND mail.may_change(o.created_by)
  RETURNING o.created_by INTO owner;
  IF NOT FOUND THEN
    RETURN false;
  END IF;
  INSERT INTO mail.event_log (mail_id, event, created_by) VALUES (mail_id, 'cancelled', owner);
  RETURN true;
END
$$;

-- Re-queues the failed, deferred or never-tried recipients of a failed, partially sent or cancelled
-- mail of the caller's, with a fresh lifetime and attempt count. Delivered and suppressed recipients
-- are not sent again, nor are those whose address has been put on the suppression list since.
-- SECURITY DEFINER: senders have no UPDATE on mail.outbox or mail.recipient.
CREATE OR REPLACE FUNCTION mail.retry(mail_id bigint) RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_variable
DECLARE
  owner name;
  requeued bigint;
BEGIN
  SELECT o.created_by INTO owner FROM mail.outbox o
   WHERE o.id = mail_id AND o.status IN ('failed', 'partially_sent', 'cancelled') FOR UPDATE;
  IF NOT FOUND OR NOT mail.may_change(owner) THEN
    RETURN false;
  END IF;
  WITH newly_suppressed AS (
    UPDATE mail.recipient r SET status = 'suppressed', updated_at = now()
     WHERE r.mail_id = mail_id AND r.status IN ('failed', 'deferred', 'pending')
       AND EXISTS (SELECT 1 FROM mail.suppression s, mail.outbox o
                    WHERE o.id = r.mail_id AND s.address = lower(r.address)
                      AND (s.profile_id IS NULL OR s.profile_id = o.profile_id)
                      AND (s.kind <> 'unsubscribe' OR o.list_unsubscribe))
    RETURNING r.id)
  INSERT INTO mail.event_log (mail_id, recipient_id, event, reply_text, created_by)
  SELECT mail_id, n.id, 'suppressed', 'address is on the suppression list', owner FROM newly_suppressed n;
  UPDATE mail.recipient r SET status = 'pending', next_attempt_at = NULL, updated_at = now()
   WHERE r.mail_id = mail_id AND r.status IN ('failed', 'deferred', 'pending');
  GET DIAGNOSTICS requeued = ROW_COUNT;
  IF requeued = 0 THEN
    RETURN false;
  END IF;
  UPDATE mail.outbox o
     SET status = 'queued', attempts = 0, next_attempt_at = now(),
         expires_at = now() + mail.setting('message_lifetime')::interval, updated_at = now()
   WHERE o.id = mail_id;
  INSERT INTO mail.event_log (mail_id, event, reply_text, created_by)
  VALUES (mail_id, 'retried', requeued || ' recipient(s) re-queued', owner);
  PERFORM pg_notify('mail_queued', '');
  RETURN true;
END
$$;

-- Deletes mails (with their recipients and attachments) queued before the given time: by default the
-- finished ones (sent, partially_sent, failed, cancelled), else those of the given status. A sender
-- deletes only its own, and never one a dispatcher is sending. The event log is kept; see
-- mail.purge_log. Returns the number of mails deleted. SECURITY DEFINER: senders have no DELETE.
CREATE OR REPLACE FUNCTION mail.purge(before timestamptz, status text DEFAULT NULL) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_variable
DECLARE
  statuses mail.mail_status[];
  mine name[] := mail.roles_of(mail.caller());
  staff boolean := mail.is_staff(mail.caller());
  deleted bigint;
BEGIN
  IF before IS NULL THEN
    RAISE EXCEPTION 'purge needs a time: mails queued before it are deleted' USING ERRCODE = '22023';
  END IF;
  IF status IS NULL THEN
    statuses := ARRAY['sent', 'partially_sent', 'failed', 'cancelled']::mail.mail_status[];
  ELSIF status NOT IN (SELECT unnest(enum_range(NULL::mail.mail_status))::text) THEN
    RAISE EXCEPTION 'unknown mail status: % (expected one of %)', status,
      array_to_string(enum_range(NULL::mail.mail_status), ', ') USING ERRCODE = '22023';
  ELSE
    statuses := ARRAY[status::mail.mail_status];
  END IF;
  DELETE FROM mail.outbox o
   WHERE o.created_at < before AND o.status = ANY (statuses)
     AND (staff OR (o.created_by = ANY (mine) AND o.status <> 'sending'));
  GET DIAGNOSTICS deleted = ROW_COUNT;
  RETURN deleted;
END
$$;

-- Deletes event log rows logged before the given time; returns how many.
CREATE OR REPLACE FUNCTION mail.purge_log(before timestamptz) RETURNS bigint
LANGUAGE plpgsql AS $$
#variable_conflict use_variable
DECLARE
  deleted bigint;
BEGIN
  IF before IS NULL THEN
    RAISE EXCEPTION 'purge_log needs a time: events logged before it are deleted' USING ERRCODE = '22023';
  END IF;
  DELETE FROM mail.event_log e WHERE e.logged_at < before;
  GET DIAGNOSTICS deleted = ROW_COUNT;
  RETURN deleted;
END
$$;

-- Adds an address to the suppression list (or updates its reason); true when it was not listed.
CREATE OR REPLACE FUNCTION mail.suppress(address text, reason text DEFAULT NULL) RETURNS boolean
LANGUAGE plpgsql AS $$
#variable_conflict use_variable
DECLARE
  addr text;
  inserted boolean;
BEGIN
  SELECT lower(p.address) INTO addr FROM mail.parse_addresses(address, 'address') p;
  IF addr IS NULL OR (SELECT count(*) FROM mail.parse_addresses(address, 'address')) <> 1 THEN
    RAISE EXCEPTION 'suppress needs exactly one address: %', address USING ERRCODE = 'MA002';
  END IF;
  INSERT INTO mail.suppression AS s (address, reason, kind) VALUES (addr, reason, 'manual')
  ON CONFLICT ON CONSTRAINT suppression_address_profile DO UPDATE SET reason = EXCLUDED.reason
  RETURNING (xmax = 0) INTO inserted;
  RETURN inserted;
END
$$;

-- Removes an address from the suppression list; true when it was listed.
CREATE OR REPLACE FUNCTION mail.unsuppress(address text) RETURNS boolean
LANGUAGE plpgsql AS $$
#variable_conflict use_variable
BEGIN
  DELETE FROM mail.suppression s
   WHERE s.address = lower(substring(btrim(address) FROM '<([^<>]*)>\s*$'))
      OR s.address = lower(btrim(address));
  RETURN FOUND;
END
$$;
