-- Traffic shaping shared by all dispatchers: destination policies, connection slots, token buckets, throttle pauses.
--
-- A scope is what a limit or a pause applies to: 'account:<id>', or 'domain:<d>' where <d> is a
-- destination policy's domain ('example.com', '*.example.com') or, without a policy, the
-- recipient domain itself. The shaping functions use clock_timestamp(): a call that waited for a
-- row lock must not count time from before the wait.

INSERT INTO mail.setting (name, default_value, kind, description) VALUES
  ('throttle_pause', '1 minute', 'positive_interval',
   'How long every dispatcher leaves a destination alone after it throttled (421, 4.7.x "too many", "rate", "try again later").'),
  ('throttle_pause_max', '30 minutes', 'positive_interval',
   'Longest throttle pause: the pause doubles while throttling persists, up to this.')
ON CONFLICT (name) DO UPDATE
  SET default_value = EXCLUDED.default_value, kind = EXCLUDED.kind, description = EXCLUDED.description;

-- Limits delivery to a recipient domain ('example.com') or its subdomains ('*.example.com') across
-- all dispatchers; adding an existing domain replaces its limits. Returns the stored domain.
CREATE OR REPLACE FUNCTION mail.add_destination_policy(domain text, max_connections int DEFAULT NULL,
                                                       rate_per_minute int DEFAULT NULL) RETURNS text
LANGUAGE plpgsql AS $$
#variable_conflict use_variable
DECLARE
  d text := lower(btrim(domain));
BEGIN
  IF d IS NULL OR d !~ '^(\*\.)?[^\s@*.,;:/\\<>\[\]]+(\.[^\s@*.,;:/\\<>\[\]]+)*$' THEN
    RAISE EXCEPTION 'invalid destination domain: % (expected example.com or *.example.com)', domain
      USING ERRCODE = 'MA016';
  END IF;
  IF max_connections < 1 OR rate_per_minute < 1 THEN
    RAISE EXCEPTION 'destination % needs max_connections and rate_per_minute NULL or >= 1 (got %, %)',
      d, max_connections, rate_per_minute USING ERRCODE = 'MA016';
  END IF;
  INSERT INTO mail.destination_policy AS p (domain, max_connections, rate_per_minute)
  VALUES (d, max_connections, rate_per_minute)
  ON CONFLICT ON CONSTRAINT destination_policy_pkey DO UPDATE
    SET max_connections = EXCLUDED.max_connections, rate_per_minute = EXCLUDED.rate_per_minute,
        updated_at = now();
  RETURN d;
END
$$;

-- Removes a destination policy; true when there was one.
CREATE OR REPLACE FUNCTION mail.drop_destination_policy(domain text) RETURNS boolean
LANGUAGE plpgsql AS $$
#variable_conflict use_variable
BEGIN
  DELETE FROM mail.destination_policy p WHERE p.domain = lower(btrim(domain));
  RETURN FOUND;
END
$$;

-- Takes one session slot in each of scopes (limits[i] slots at most in scopes[i]) for holder,
-- leased for lease_length; all or nothing. Returns the slot numbers in the order of scopes; or,
-- when any of scopes or pause_scopes is paused, no slots and the longest remaining pause; or,
-- when a scope has no free slot, no slots and no pause (try again later).
CREATE OR REPLACE FUNCTION mail.acquire_slots(holder text, lease_length interval, scopes text[], limits int[],
                                              pause_scopes text[] DEFAULT '{}')
RETURNS TABLE (slots int[], paused_scope text, paused_for interval)
LANGUAGE plpgsql AS $$
#variable_conflict use_variable
DECLARE
  i int;
  got int;
  taken int[] := array_fill(NULL::int, ARRAY[cardinality(scopes)]);
  try int;
BEGIN
  SELECT z.scope, z.paused_until - clock_timestamp() INTO paused_scope, paused_for
    FROM mail.shaping_pause z
   WHERE z.scope = ANY (scopes || pause_scopes) AND z.paused_until > clock_timestamp()
   ORDER BY z.paused_until DESC LIMIT 1;
  IF FOUND THEN
    RETURN NEXT;
    RETURN;
  END IF;
  paused_scope := NULL;
  paused_for := NULL;
  -- in scope order, so that two callers wanting the same scopes never wait on each other in a cycle
  FOR i IN SELECT o.i FROM generate_subscripts(scopes, 1) o(i) ORDER BY scopes[o.i] LOOP
    got := NULL;
    FOR try IN 1..3 LOOP
      WITH used AS (
        SELECT x.slot FROM mail.shaping_slot x
         WHERE x.scope = scopes[i] AND x.lease_expires_at > clock_timestamp()
      ), free AS (
        SELECT s FROM generate_series(0, limits[i] - 1) s
         WHERE s NOT IN (SELECT slot FROM used) AND (SELECT count(*) FROM used) < limits[i]
         ORDER BY random() LIMIT 1
      )
      INSERT INTO mail.shaping_slot AS x (scope, slot, holder, lease_expires_at, acquired_at)
      SELECT scopes[i], s, holder, clock_timestamp() + lease_length, clock_timestamp() FROM free
      ON CONFLICT ON CONSTRAINT shaping_slot_pkey DO UPDATE
        SET holder = EXCLUDED.holder, lease_expires_at = EXCLUDED.lease_expires_at,
            acquired_at = EXCLUDED.acquired_at
        WHERE x.lease_expires_at <= clock_timestamp()
      RETURNING x.slot INTO got;
      EXIT WHEN got IS NOT NULL;
      -- nothing free, or another caller took the free slot first: look again only in the latter case
      EXIT WHEN (SELECT count(*) FROM mail.shaping_slot x
                  WHERE x.scope = scopes[i] AND x.lease_expires_at > clock_timestamp()) >= limits[i];
    END LOOP;
    IF got IS NULL THEN
      DELETE FROM mail.shaping_slot x
       USING unnest(scopes, taken) AS t(scope, slot)
       WHERE x.scope = t.scope AND x.slot = t.slot AND x.holder = acquire_slots.holder;
      RETURN NEXT;
      RETURN;
    END IF;
    taken[i] := got;
  END LOOP;
  slots := taken;
  RETURN NEXT;
END
$$;

-- Extends the lease of every slot holder holds; returns the slots it still holds.
CREATE OR REPLACE FUNCTION mail.renew_slots(holder text, lease_length interval)
RETURNS TABLE (scope text, slot int)
LANGUAGE sql AS $$
  UPDATE mail.shaping_slot x SET lease_expires_at = clock_timestamp() + lease_length
   WHERE x.holder = renew_slots.holder
  RETURNING x.scope, x.slot
$$;

-- Gives slots back (scopes[i], slots[i]); with NULL arrays every slot of holder. Returns how many.
CREATE OR REPLACE FUNCTION mail.release_slots(holder text, scopes text[] DEFAULT NULL, slots int[] DEFAULT NULL)
RETURNS int
LANGUAGE plpgsql AS $$
#variable_conflict use_variable
DECLARE
  n int;
BEGIN
  IF scopes IS NULL THEN
    DELETE FROM mail.shaping_slot x WHERE x.holder = release_slots.holder;
  ELSE
    DELETE FROM mail.shaping_slot x
     USING unnest(scopes, slots) AS t(scope, slot)
     WHERE x.scope = t.scope AND x.slot = t.slot AND x.holder = release_slots.holder;
  END IF;
  GET DIAGNOSTICS n = ROW_COUNT;
  RETURN n;
END
$$;

-- Takes up to wanted transaction tokens from the buckets of all of scopes at once (rates[i] a
-- minute each; a bucket holds at most a twentieth of its rate, at least 1). Returns how many were
-- granted (the same number from every bucket), and when none: how long until one is due, or the
-- longest remaining pause of scopes and pause_scopes.
CREATE OR REPLACE FUNCTION mail.take_tokens(scopes text[], rates int[], wanted int, pause_scopes text[] DEFAULT '{}')
RETURNS TABLE (granted int, wait interval, paused_scope text, paused_for interval)
LANGUAGE plpgsql AS $$
#variable_conflict use_variable
DECLARE
  t_now timestamptz;
BEGIN
  SELECT z.scope, z.paused_until - clock_timestamp() INTO paused_scope, paused_for
    FROM mail.shaping_pause z
   WHERE z.scope = ANY (scopes || pause_scopes) AND z.paused_until > clock_timestamp()
   ORDER BY z.paused_until DESC LIMIT 1;
  IF FOUND THEN
    granted := 0;
    RETURN NEXT;
    RETURN;
  END IF;
  paused_scope := NULL;
  paused_for := NULL;
  INSERT INTO mail.shaping_bucket AS b (scope, tokens, refilled_at)
  SELECT t.scope, greatest(1, floor(t.rate / 20.0)), clock_timestamp()
    FROM unnest(scopes, rates) AS t(scope, rate)
   ORDER BY t.scope
  ON CONFLICT ON CONSTRAINT shaping_bucket_pkey DO NOTHING;
  PERFORM 1 FROM mail.shaping_bucket b WHERE b.scope = ANY (scopes) ORDER BY b.scope FOR UPDATE;
  t_now := clock_timestamp();
  WITH level AS (
    SELECT b.scope, t.rate,
           least(greatest(1, floor(t.rate / 20.0)),
                 b.tokens + greatest(0, extract(epoch FROM t_now - b.refilled_at)) * t.rate / 60.0) AS tokens
      FROM mail.shaping_bucket b JOIN unnest(scopes, rates) AS t(scope, rate) ON t.scope = b.scope
  )
  SELECT least(wanted, floor(min(l.tokens)))::int,
         make_interval(secs => max(greatest(0, 1 - l.tokens) * 60.0 / l.rate))
    INTO granted, wait
    FROM level l;
  UPDATE mail.shaping_bucket b
     SET tokens = least(greatest(1, floor(t.rate / 20.0)),
                        b.tokens + greatest(0, extract(epoch FROM t_now - b.refilled_at)) * t.rate / 60.0)
                  - granted,
         refilled_at = t_now
    FROM unnest(scopes, rates) AS t(scope, rate)
   WHERE b.scope = t.scope;
  IF granted > 0 THEN
    wait := NULL;
  END IF;
  RETURN NEXT;
END
$$;

-- Records a throttling reply from scope: pauses it for throttle_pause, or for twice the previous
-- pause (at most throttle_pause_max) when it throttles again within a pause's length after its last
-- pause ended without a success in between. While paused, a throttle changes nothing. at_connect:
-- the reply refused a new session (greeting, EHLO), so only a new session's success ends the pause.
-- Returns how long the scope is paused from now.
CREATE OR REPLACE FUNCTION mail.record_throttle(scope text, at_connect boolean, reply_code int,
                                                enhanced_code text, reply_text text) RETURNS interval
LANGUAGE plpgsql AS $$
#variable_conflict use_variable
DECLARE
  t_now timestamptz;
  base interval := mail.setting('throttle_pause')::interval;
  longest interval := mail.setting('throttle_pause_max')::interval;
  previous mail.shaping_pause;
  new_length interval;
BEGIN
  INSERT INTO mail.shaping_pause AS z (scope, paused_until, pause_length, throttled_at, at_connect)
  VALUES (scope, '-infinity', interval '0', '-infinity', at_connect)
  ON CONFLICT ON CONSTRAINT shaping_pause_pkey DO NOTHING;
  SELECT * INTO previous FROM mail.shaping_pause z WHERE z.scope = record_throttle.scope FOR UPDATE;
  t_now := clock_timestamp();
  IF previous.paused_until > t_now THEN
    RETURN previous.paused_until - t_now;
  END IF;
  new_length := CASE
              WHEN previous.pause_length > interval '0' AND t_now < previous.paused_until + previous.pause_length
                THEN least(previous.pause_length * 2, longest)
              ELSE least(base, longest)
            END;
  UPDATE mail.shaping_pause z
     SET paused_until = t_now + new_length, pause_length = new_length, throttled_at = t_now,
         at_connect = record_throttle.at_connect, reply_code = record_throttle.reply_code,
         enhanced_code = record_throttle.enhanced_code, reply_text = left(record_throttle.reply_text, 500)
   WHERE z.scope = record_throttle.scope;
  RETURN new_length;
END
$$;

-- A delivery through scope succeeded in a transaction that started transaction_age ago, on a
-- session opened session_age ago: ends scope's pause (and its doubling) if that throttle came
-- before. A throttle that refused a session is ended only by a session opened after it.
CREATE OR REPLACE FUNCTION mail.end_throttle(scope text, transaction_age interval, session_age interval)
RETURNS boolean
LANGUAGE plpgsql AS $$
#variable_conflict use_variable
BEGIN
  DELETE FROM mail.shaping_pause z
   WHERE z.scope = end_throttle.scope
     AND z.throttled_at < clock_timestamp()
                          - CASE WHEN z.at_connect THEN session_age ELSE transaction_age END;
  RETURN FOUND;
END
$$;

-- Adds SMTP transactions per scope (scopes[i] had counts[i]) to this second's count, and forgets
-- counts older than two minutes.
CREATE OR REPLACE FUNCTION mail.count_transactions(scopes text[], counts int[]) RETURNS void
LANGUAGE sql AS $$
  INSERT INTO mail.shaping_count AS c (scope, second, transactions)
  SELECT t.scope, date_trunc('second', clock_timestamp()), t.n
    FROM unnest(scopes, counts) AS t(scope, n)
   ORDER BY t.scope
  ON CONFLICT ON CONSTRAINT shaping_count_pkey DO UPDATE SET transactions = c.transactions + EXCLUDED.transactions;
  DELETE FROM mail.shaping_count c WHERE c.second < clock_timestamp() - interval '2 minutes';
$$;

-- Accounts, destination policies and paused or busy destinations, with their limits and load.
CREATE OR REPLACE VIEW mail.destination_status WITH (security_invoker = true) AS
WITH scopes AS (
  SELECT 'account:' || a.id AS scope FROM mail.account a
  UNION SELECT 'domain:' || p.domain FROM mail.destination_policy p
  UNION SELECT z.scope FROM mail.shaping_pause z WHERE z.paused_until > now()
  UNION SELECT x.scope FROM mail.shaping_slot x WHERE x.lease_expires_at > now()
  UNION SELECT c.scope FROM mail.shaping_count c WHERE c.second > now() - interval '1 minute'
)
SELECT CASE WHEN s.scope LIKE 'domain:%' THEN substr(s.scope, 8) END AS domain,
       a.name AS account,
       coalesce(a.max_connections, p.max_connections) AS max_connections,
       coalesce(a.rate_per_minute, p.rate_per_minute) AS rate_per_minute,
       CASE WHEN z.paused_until > now() THEN z.paused_until END AS paused_until,
       CASE WHEN z.paused_until > now() THEN concat_ws(' ', z.reply_code, z.enhanced_code, z.reply_text) END
         AS throttle_reply,
       (SELECT count(*) FROM mail.shaping_slot x
         WHERE x.scope = s.scope AND x.lease_expires_at > now())::int AS connections_in_use,
       (SELECT coalesce(sum(c.transactions), 0) FROM mail.shaping_count c
         WHERE c.scope = s.scope AND c.second > now() - interval '1 minute')::int AS sends_last_minute
  FROM scopes s
  LEFT JOIN mail.account a ON s.scope = 'account:' || a.id
  LEFT JOIN mail.destination_policy p ON s.scope = 'domain:' || p.domain
  LEFT JOIN mail.shaping_pause z ON z.scope = s.scope;
