-- Changing and deleting accounts and profiles, as Database Mail's sysmail_update_*_sp and sysmail_delete_*_sp.

-- Changes an account: a NULL parameter leaves that value as it is; '' clears an optional text value
-- (username and password together, tls_ca_pem, from_address, display_name, reply_to, helo_name) and
-- rate_per_minute => 0 removes the rate limit. The result is checked as add_account checks a new one.
-- Dispatchers pick the change up on their next refresh (every 10 seconds). Returns the account's id.
CREATE OR REPLACE FUNCTION mail.update_account(
  name text, new_name text DEFAULT NULL, host text DEFAULT NULL, port int DEFAULT NULL,
  tls text DEFAULT NULL, tls_verify boolean DEFAULT NULL, tls_ca_pem text DEFAULT NULL,
  username text DEFAULT NULL, password text DEFAULT NULL, auth text DEFAULT NULL,
  from_address text DEFAULT NULL, display_name text DEFAULT NULL, reply_to text DEFAULT NULL,
  helo_name text DEFAULT NULL, delivery text DEFAULT NULL, max_connections int DEFAULT NULL,
  rate_per_minute int DEFAULT NULL
) RETURNS int
LANGUAGE plpgsql AS $$
#variable_conflict use_variable
DECLARE
  cur mail.account;
  nxt mail.account;
BEGIN
  SELECT * INTO cur FROM mail.account a WHERE a.name = update_account.name FOR UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'unknown account: % (see mail.account)', name USING ERRCODE = 'MA016';
  END IF;
  nxt := cur;
  nxt.name := coalesce(new_name, cur.name);
  nxt.host := CASE WHEN host IS NULL THEN cur.host ELSE nullif(host, '') END;
  nxt.port := coalesce(port, cur.port);
  nxt.tls := coalesce(tls, cur.tls);
  nxt.tls_verify := coalesce(tls_verify, cur.tls_verify);
  nxt.tls_ca_pem := CASE WHEN tls_ca_pem IS NULL THEN cur.tls_ca_pem ELSE nullif(tls_ca_pem, '') END;
  nxt.username := CASE WHEN username IS NULL THEN cur.username ELSE nullif(username, '') END;
  nxt.password := CASE WHEN password IS NULL THEN cur.password ELSE nullif(password, '') END;
  nxt.auth := CASE WHEN auth IS NULL THEN cur.auth ELSE lower(nullif(auth, '')) END;
  nxt.from_address := CASE WHEN from_address IS NULL THEN cur.from_address ELSE nullif(from_address, '') END;
  nxt.display_name := CASE WHEN display_name IS NULL THEN cur.display_name ELSE nullif(display_name, '') END;
  nxt.reply_to := CASE WHEN reply_to IS NULL THEN cur.reply_to ELSE nullif(reply_to, '') END;
  nxt.helo_name := CASE WHEN helo_name IS NULL THEN cur.helo_name ELSE nullif(helo_name, '') END;
  nxt.delivery := coalesce(delivery, cur.delivery);
  nxt.max_connections := coalesce(max_connections, cur.max_connections);
  nxt.rate_per_minute := CASE WHEN rate_per_minute IS NULL THEN cur.rate_per_minute
                              ELSE nullif(rate_per_minute, 0) END;
  IF btrim(nxt.name) = '' THEN
    RAISE EXCEPTION 'account name is empty' USING ERRCODE = 'MA016';
  END IF;
  IF nxt.name <> cur.name AND EXISTS (SELECT 1 FROM mail.account a WHERE a.name = nxt.name) THEN
    RAISE EXCEPTION 'cannot rename account % to %: that name is taken', cur.name, nxt.name
      USING ERRCODE = 'MA016';
  END IF;
  PERFORM mail.check_account(nxt.name, nxt.host, nxt.port, nxt.tls, nxt.username, nxt.password,
                             nxt.auth, nxt.from_address, nxt.display_name, nxt.reply_to,
                             nxt.helo_name, nxt.delivery, nxt.max_connections, nxt.rate_per_minute);
  UPDATE mail.account a
     SET name = nxt.name, host = nxt.host, port = nxt.port, tls = nxt.tls, tls_verify = nxt.tls_verify,
         tls_ca_pem = nxt.tls_ca_pem, username = nxt.username, password = nxt.password,
         auth = nxt.auth, from_address = nxt.from_address, display_name = nxt.display_name,
         reply_to = nxt.reply_to, helo_name = nxt.helo_name, delivery = nxt.delivery,
         max_connections = nxt.max_connections, rate_per_minute = nxt.rate_per_minute,
         updated_at = now()
   WHERE a.id = cur.id;
  RETURN cur.id;
END
$$;

-- Changes a profile's name, description, default flag or visibility (NULL leaves each as it is;
-- is_default => true makes it the default, replacing the previous one; is_public => false makes it
-- private to the roles granted it with mail.grant_profile). Returns the profile's id.
CREATE OR REPLACE FUNCTION mail.update_profile(name text, new_name text DEFAULT NULL,
                                               description text DEFAULT NULL,
                                               is_default boolean DEFAULT NULL,
                                               is_public boolean DEFAULT NULL) RETURNS int
LANGUAGE plpgsql AS $$
#variable_conflict use_variable
DECLARE
  pid int;
BEGIN
  SELECT p.id INTO pid FROM mail.profile p WHERE p.name = update_profile.name FOR UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'unknown profile: %', name USING ERRCODE = 'MA004';
  END IF;
  IF new_name IS NOT NULL AND btrim(new_name) = '' THEN
    RAISE EXCEPTION 'profile name is empty' USING ERRCODE = 'MA016';
  END IF;
  IF new_name IS NOT NULL AND new_name <> name
     AND EXISTS (SELECT 1 FROM mail.profile p WHERE p.name = new_name) THEN
    RAISE EXCEPTION 'cannot rename profile % to %: that name is taken', name, new_name
      USING ERRCODE = 'MA016';
  END IF;
  IF is_default THEN
    UPDATE mail.profile p SET is_default = false WHERE p.is_default AND p.id <> pid;
  END IF;
  UPDATE mail.profile p
     SET name = coalesce(new_name, p.name),
         description = CASE WHEN description IS NULL THEN p.description ELSE nullif(description, '') END,
         is_default = coalesce(is_default, p.is_default),
         is_public = coalesce(is_public, p.is_public)
   WHERE p.id = pid;
  RETURN pid;
END
$$;

-- Deletes an account and its places in profiles. Refused while mail of a profile that would be left
-- without any account is waiting (queued, sending or retrying). Mails it sent keep their history
-- (account_id becomes NULL).
CREATE OR REPLACE FUNCTION mail.delete_account(name text) RETURNS void
LANGUAGE plpgsql AS $$
#variable_conflict use_variable
DECLARE
  aid int;
  stranded text;
BEGIN
  SELECT a.id INTO aid FROM mail.account a WHERE a.name = delete_account.name FOR UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'unknown account: % (see mail.account)', name USING ERRCODE = 'MA016';
  END IF;
  SELECT string_agg(DISTINCT p.name, ', ') INTO stranded
    FROM mail.profile_account pa JOIN mail.profile p ON p.id = pa.profile_id
   WHERE pa.account_id = aid
     AND NOT EXISTS (SELECT 1 FROM mail.profile_account o WHERE o.profile_id = pa.profile_id
                                                             AND o.account_id <> aid)
     AND EXISTS (SELECT 1 FROM mail.outbox m WHERE m.profile_id = pa.profile_id
                                               AND m.status IN ('queued', 'sending', 'retrying'));
  IF stranded IS NOT NULL THEN
    RAISE EXCEPTION 'account % is the only account of profile(s) % with mail waiting; add another account to them first (mail.add_profile_account) or cancel that mail',
      name, stranded USING ERRCODE = 'MA016';
  END IF;
  DELETE FROM mail.account a WHERE a.id = aid;
END
$$;

-- Deletes a profile (and its account list). Refused while its mail is waiting (queued, sending or
-- retrying); finished mails keep profile_name and lose only the link (profile_id becomes NULL).
CREATE OR REPLACE FUNCTION mail.delete_profile(name text) RETURNS void
LANGUAGE plpgsql AS $$
#variable_conflict use_variable
DECLARE
  pid int;
  waiting bigint;
BEGIN
  SELECT p.id INTO pid FROM mail.profile p WHERE p.name = delete_profile.name FOR UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'unknown profile: %', name USING ERRCODE = 'MA004';
  END IF;
  SELECT count(*) INTO waiting FROM mail.outbox m
   WHERE m.profile_id = pid AND m.status IN ('queued', 'sending', 'retrying');
  IF waiting > 0 THEN
    RAISE EXCEPTION 'profile % has % mail(s) waiting to be sent; cancel them (mail.cancel) or let them finish first',
      name, waiting USING ERRCODE = 'MA016';
  END IF;
  DELETE FROM mail.profile p WHERE p.id = pid;
END
$$;

-- Takes an account out of a profile's failover list; refused when it is the last account of a
-- profile with mail waiting.
CREATE OR REPLACE FUNCTION mail.delete_profile_account(profile_name text, account_name text) RETURNS void
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
  PERFORM 1 FROM mail.profile_account pa WHERE pa.profile_id = pid AND pa.account_id = aid FOR UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'account % is not in profile %', account_name, profile_name USING ERRCODE = 'MA016';
  END IF;
  IF NOT EXISTS (SELECT 1 FROM mail.profile_account pa WHERE pa.profile_id = pid AND pa.account_id <> aid)
     AND EXISTS (SELECT 1 FROM mail.outbox m
                  WHERE m.profile_id = pid AND m.status IN ('queued', 'sending', 'retrying')) THEN
    RAISE EXCEPTION 'account % is the last account of profile % and mail is waiting; add another account first',
      account_name, profile_name USING ERRCODE = 'MA016';
  END IF;
  DELETE FROM mail.profile_account pa WHERE pa.profile_id = pid AND pa.account_id = aid;
END
$$;
