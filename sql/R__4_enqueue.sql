-- Enqueue: validation and defaults on insert into mail.outbox, recipient expansion, wake-up, mail.send and mail.attach.

-- Checks one value that becomes (part of) a header: no CR or LF (NUL cannot occur in text).
CREATE OR REPLACE FUNCTION mail.check_header_value(value text, field text) RETURNS void
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
BEGIN
  IF strpos(value, E'\r') > 0 OR strpos(value, E'\n') > 0 THEN
    RAISE EXCEPTION 'line break in %: %', field, replace(replace(value, E'\r', '\r'), E'\n', '\n')
      USING ERRCODE = 'MA003';
  END IF;
END
$$;

-- Validates the extra headers object and returns its size in bytes.
CREATE OR REPLACE FUNCTION mail.check_headers(headers jsonb) RETURNS bigint
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
  h record;
  size bigint := 0;
BEGIN
  IF jsonb_typeof(headers) <> 'object' THEN
    RAISE EXCEPTION 'headers must be a JSON object of header names to values, not %', jsonb_typeof(headers)
      USING ERRCODE = 'MA011';
  END IF;
  FOR h IN SELECT key, value FROM jsonb_each(headers) LOOP
    IF h.key !~ '^[!-9;-~]+$' THEN
      RAISE EXCEPTION 'invalid header name: %', h.key USING ERRCODE = 'MA011';
    END IF;
    -- Set by Postroom, or by the servers on the way (trace and authentication results, signatures):
    -- a sender giving them could forge provenance.
    IF lower(h.key) IN ('from', 'to', 'cc', 'bcc', 'message-id', 'date', 'mime-version', 'subject',
                        'reply-to', 'return-path', 'sender', 'received', 'dkim-signature',
                        'authentication-results', 'received-spf')
       OR lower(h.key) LIKE 'content-%' OR lower(h.key) LIKE 'resent-%' OR lower(h.key) LIKE 'arc-%' THEN
      RAISE EXCEPTION 'header % is set by Postroom or by the servers on the way and cannot be given in headers', h.key
        USING ERRCODE = 'MA011';
    END IF;
    IF jsonb_typeof(h.value) NOT IN ('string', 'number', 'boolean') THEN
      RAISE EXCEPTION 'header % must have a string value, not %', h.key, jsonb_typeof(h.value)
        USING ERRCODE = 'MA011';
    END IF;
    PERFORM mail.check_header_value(h.value #>> '{}', 'header ' || h.key);
    size := size + octet_length(h.key) + octet_length(h.value #>> '{}') + 4;
  END LOOP;
  RETURN size;
END
$$;

-- How many addresses an address list gives (blank items do not count): one pass of the list parser's
-- item pattern, so that an oversized list is refused before it is parsed address by address.
CREATE OR REPLACE FUNCTION mail.count_addresses(list text) RETURNS int
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE
           WHEN list IS NULL OR list !~ '[^\s,;]' THEN 0
           WHEN list !~ '[,;]' THEN 1
           ELSE regexp_count(list, '(?:"(?:[^"\\]|\\.)*"|<[^<>]*>|[^,;"<>[:space:]])(?:"(?:[^"\\]|\\.)*"|<[^<>]*>|[^,;"<>])*')
         END
$$;

-- BEFORE INSERT on mail.outbox, as the inserting user: validates one mail and fills what Postroom owns.
CREATE OR REPLACE FUNCTION mail.outbox_before_insert() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  lifetime interval;
  max_bytes bigint;
  account_from text;
  domain text;
  wanted_name text := NEW.profile_name;
  wanted_id int := NEW.profile_id;
  given int;
BEGIN
  IF coalesce(NEW.recipients, '') || coalesce(NEW.copy_recipients, '')
     || coalesce(NEW.blind_copy_recipients, '') !~ '[^\s,;]' THEN
    RAISE EXCEPTION 'no recipients: recipients, copy_recipients and blind_copy_recipients are all empty'
      USING ERRCODE = 'MA001';
  END IF;
  IF NEW.recipients ~ '[,;]' OR NEW.copy_recipients ~ '[,;]' OR NEW.blind_copy_recipients ~ '[,;]' THEN
    given := mail.count_addresses(NEW.recipients) + mail.count_addresses(NEW.copy_recipients)
             + mail.count_addresses(NEW.blind_copy_recipients);
    IF given > current_setting('postroom.max_recipients')::int THEN
      RAISE EXCEPTION 'mail has % recipients, more than max_recipients (%)', given,
        current_setting('postroom.max_recipients') USING ERRCODE = 'MA007';
    END IF;
  END IF;
  IF num_nonnulls(NEW.template_name, NEW.template_data, NEW.template_subject, NEW.template_body) > 0 THEN
    NEW := mail.outbox_apply_template(NEW); -- sql/R__7b_templates.sql
  END IF;
  NEW.body_format := coalesce(lower(NEW.body_format), 'text');
  IF NEW.body_format NOT IN ('text', 'html') THEN
    RAISE EXCEPTION 'invalid body_format: % (expected text or html)', NEW.body_format USING ERRCODE = 'MA008';
  END IF;
  NEW.importance := coalesce(lower(NEW.importance), 'normal');
  IF NEW.importance NOT IN ('low', 'normal', 'high') THEN
    RAISE EXCEPTION 'invalid importance: % (expected low, normal or high)', NEW.importance
      USING ERRCODE = 'MA009';
  END IF;
  NEW.sensitivity := coalesce(lower(NEW.sensitivity), 'normal');
  IF NEW.sensitivity NOT IN ('normal', 'personal', 'private', 'confidential') THEN
    RAISE EXCEPTION 'invalid sensitivity: % (expected normal, personal, private or confidential)',
      NEW.sensitivity USING ERRCODE = 'MA010';
  END IF;
  IF NEW.subject ~ '[\r\n]' THEN
    PERFORM mail.check_header_value(NEW.subject, 'subject');
  END IF;
  IF NEW.from_address IS NOT NULL THEN
    IF (SELECT count(*) FROM mail.parse_addresses(NEW.from_address, 'from_address')) <> 1 THEN
      RAISE EXCEPTION 'from_address must be exactly one address: %', NEW.from_address USING ERRCODE = 'MA002';
    END IF;
  END IF;
  IF NEW.reply_to IS NOT NULL THEN
    PERFORM mail.parse_addresses(NEW.reply_to, 'reply_to');
  END IF;
  -- Dates the claim and the queue summary compute with must be finite and far from the range's end.
  IF NOT isfinite(NEW.send_at) OR NEW.send_at NOT BETWEEN timestamptz '1900-01-01 00:00+00'
                                                    AND timestamptz '9999-01-01 00:00+00' THEN
    RAISE EXCEPTION 'send_at out of range: % (expected a time between 1900 and 9999)', NEW.send_at
      USING ERRCODE = '22008';
  END IF;

  -- Settings and the default profile come from the per-statement cache (mail.outbox_before_statement).
  lifetime := current_setting('postroom.message_lifetime')::interval;
  max_bytes := current_setting('postroom.max_message_bytes')::bigint;
  IF wanted_name IS NULL AND wanted_id IS NULL THEN
    NEW.profile_id := nullif(current_setting('postroom.default_profile_id'), '')::int;
    NEW.profile_name := nullif(current_setting('postroom.default_profile_name'), '');
    account_from := nullif(current_setting('postroom.default_profile_from'), '');
  ELSE
    SELECT p.id, p.name,
           (SELECT a.from_address FROM mail.profile_account pa JOIN mail.account a ON a.id = pa.account_id
             WHERE pa.profile_id = p.id ORDER BY pa.sequence LIMIT 1)
      INTO NEW.profile_id, NEW.profile_name, account_from
      FROM mail.profile p
     WHERE CASE WHEN wanted_name IS NOT NULL THEN p.name = wanted_name ELSE p.id = wanted_id END;
  END IF;
  IF NEW.profile_id IS NULL THEN
    IF wanted_name IS NOT NULL OR wanted_id IS NOT NULL THEN
      RAISE EXCEPTION 'unknown profile: %', coalesce(wanted_name, 'id ' || wanted_id) USING ERRCODE = 'MA004';
    END IF;
    RAISE EXCEPTION 'no profile given and no default profile (create one with mail.add_profile(..., is_default => true))'
      USING ERRCODE = 'MA005';
  END IF;

  IF NEW.message_id IS NULL THEN
    domain := coalesce(substring(NEW.from_address FROM '@([^@<>\s"]+)>?\s*$'),
                       substring(account_from FROM '@([^@<>\s"]+)>?\s*$'), 'postroom.invalid');
    NEW.message_id := '<' || gen_random_uuid() || '@' || lower(domain) || '>';
  ELSIF NEW.message_id ~ '[\r\n]' THEN
    PERFORM mail.check_header_value(NEW.message_id, 'message_id');
  END IF;

  -- Everything the sender stores counts: subject, body, address lists (with display names), extra
  -- headers; attachments add theirs in mail.attachment_before_insert.
  NEW.size_bytes := coalesce(octet_length(NEW.subject), 0) + coalesce(octet_length(NEW.body), 0)
                    + coalesce(octet_length(NEW.template_subject) + octet_length(NEW.template_body)
                               + octet_length(NEW.template_data::text), 0)
                    + coalesce(octet_length(NEW.recipients), 0) + coalesce(octet_length(NEW.copy_recipients), 0)
                    + coalesce(octet_length(NEW.blind_copy_recipients), 0)
                    + coalesce(octet_length(NEW.from_address), 0) + coalesce(octet_length(NEW.reply_to), 0)
                    + CASE WHEN NEW.headers IS NULL THEN 0 ELSE mail.check_headers(NEW.headers) END;
  IF NEW.size_bytes > max_bytes THEN
    RAISE EXCEPTION 'message of % bytes is over max_message_bytes (%)', NEW.size_bytes, max_bytes
      USING ERRCODE = 'MA007';
  END IF;

  NEW.status := 'queued';
  NEW.priority := coalesce(NEW.priority, 0);
  NEW.attempts := 0;
  NEW.created_at := now();
  NEW.updated_at := now();
  NEW.next_attempt_at := coalesce(NEW.send_at, now());
  NEW.expires_at := greatest(now(), NEW.send_at) + lifetime;
  NEW.lease_expires_at := NULL;
  NEW.lease_token := NULL;
  NEW.claimed_by := NULL;
  NEW.account_id := NULL;
  NEW.sent_at := NULL;
  NEW.last_reply_code := NULL;
  NEW.last_enhanced_code := NULL;
  NEW.last_reply_text := NULL;
  RETURN NEW;
END
$$;

-- BEFORE INSERT FOR EACH STATEMENT on mail.outbox: reads the settings and the default profile once per
-- statement into transaction-local parameters, so a bulk insert does not look them up for every row.
CREATE OR REPLACE FUNCTION mail.outbox_before_statement() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  lifetime text;
  max_bytes text;
  max_recipients text;
  profile_id int;
  profile_name text;
  profile_from text;
BEGIN
  SELECT st.lifetime, st.max_bytes, st.max_recipients, p.id, p.name,
         (SELECT a.from_address FROM mail.profile_account pa JOIN mail.account a ON a.id = pa.account_id
           WHERE pa.profile_id = p.id ORDER BY pa.sequence LIMIT 1)
    INTO lifetime, max_bytes, max_recipients, profile_id, profile_name, profile_from
    FROM (SELECT coalesce(max(coalesce(s.value, s.default_value)) FILTER (WHERE s.name = 'message_lifetime'),
                          '4 days') AS lifetime,
                 coalesce(max(coalesce(s.value, s.default_value)) FILTER (WHERE s.name = 'max_message_bytes'),
                          '26214400') AS max_bytes,
                 coalesce(max(coalesce(s.value, s.default_value)) FILTER (WHERE s.name = 'max_recipients'),
                          '1000') AS max_recipients
            FROM mail.setting s WHERE s.name IN ('message_lifetime', 'max_message_bytes', 'max_recipients')) st
    -- The role's own default grant, else one of a role whose privileges it has, else the global default.
    LEFT JOIN mail.profile p ON p.id = coalesce(
      (SELECT pp.profile_id FROM mail.profile_principal pp
        WHERE pp.is_default AND pp.role_name = current_user),
      (SELECT pp.profile_id FROM mail.profile_principal pp JOIN pg_roles r ON r.rolname = pp.role_name
        WHERE pp.is_default AND pg_has_role(current_user, r.oid, 'USAGE') ORDER BY pp.role_name LIMIT 1),
      (SELECT d.id FROM mail.profile d WHERE d.is_default));
  PERFORM set_config('postroom.message_lifetime', lifetime, true),
          set_config('postroom.max_message_bytes', max_bytes, true),
          set_config('postroom.max_recipients', max_recipients, true),
          set_config('postroom.default_profile_id', coalesce(profile_id::text, ''), true),
          set_config('postroom.default_profile_name', coalesce(profile_name, ''), true),
          set_config('postroom.default_profile_from', coalesce(profile_from, ''), true);
  RETURN NULL;
END
$$;

-- AFTER INSERT FOR EACH STATEMENT on mail.outbox: one recipient row per distinct address (suppressed
-- addresses marked so), a 'queued' event per mail, and one wake-up for the whole transaction.
-- JIT is off: its compile time dwarfs the work of any realistic batch.
CREATE OR REPLACE FUNCTION mail.outbox_after_insert() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET jit = off AS $$
DECLARE
  queued bigint;
  suppressed bigint;
  bad record;
BEGIN
  -- The row trigger read the settings from transaction-local parameters, which a statement could
  -- have changed while it ran; check its results against the settings themselves.
  SELECT n.id, n.size_bytes, st.max_bytes INTO bad
    FROM new_mail n,
         (SELECT coalesce(max(coalesce(s.value, s.default_value)) FILTER (WHERE s.name = 'message_lifetime'),
                          '4 days')::interval AS lifetime,
                 coalesce(max(coalesce(s.value, s.default_value)) FILTER (WHERE s.name = 'max_message_bytes'),
                          '26214400')::bigint AS max_bytes
            FROM mail.setting s WHERE s.name IN ('message_lifetime', 'max_message_bytes')) st
   WHERE n.size_bytes > st.max_bytes OR n.expires_at <> greatest(n.created_at, n.send_at) + st.lifetime
   LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION 'message of % bytes is over max_message_bytes (%), or its lifetime does not match the settings',
      bad.size_bytes, bad.max_bytes USING ERRCODE = 'MA007';
  END IF;

  -- A private profile only for the roles granted it (or a role whose privileges they have); checked
  -- here, as the schema owner, since the row trigger's per-statement cache is the sender's to change.
  SELECT n.profile_name, n.created_by INTO bad
    FROM new_mail n JOIN mail.profile p ON p.id = n.profile_id
   WHERE NOT p.is_public
     AND NOT EXISTS (SELECT 1 FROM mail.profile_principal pp
                      WHERE pp.profile_id = p.id AND pp.role_name = ANY (mail.roles_of(n.created_by)))
     AND NOT mail.is_staff(n.created_by)
   LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION 'role % may not use profile % (an admin grants it with mail.grant_profile)',
      bad.created_by, bad.profile_name USING ERRCODE = 'MA024';
  END IF;

  WITH parsed AS (
    SELECT DISTINCT ON (n.id, lower(a.address))
           n.id AS mail_id, a.kind, a.ord, a.pos, a.address, a.display_name, a.domain, n.created_by,
           CASE WHEN s.address IS NULL THEN 'pending' ELSE 'suppressed' END::mail.recipient_status AS status
      FROM new_mail n
      CROSS JOIN LATERAL (VALUES ('to', 1, n.recipients, 'recipients'),
                                 ('cc', 2, n.copy_recipients, 'copy_recipients'),
                                 ('bcc', 3, n.blind_copy_recipients, 'blind_copy_recipients'))
        AS l (kind, ord, list, field)
      CROSS JOIN LATERAL (
        -- One valid bare address (the common case) needs no parser call.
        SELECT l.kind, l.ord, 1::bigint AS pos, btrim(l.list) AS address, NULL::text AS display_name,
               lower(substring(btrim(l.list) FROM '@([^@]*)$')) AS domain
         WHERE l.list !~ '[,;"<>]' AND mail.is_valid_address(btrim(l.list))
        UNION ALL
        SELECT l.kind, l.ord, p.pos, p.address, p.display_name, p.domain
          FROM mail.parse_addresses(l.list, l.field) WITH ORDINALITY AS p (address, display_name, domain, pos)
         WHERE l.list ~ '[,;"<>]' OR NOT mail.is_valid_address(btrim(l.list))
      ) a
      -- list mail also skips addresses unsubscribed from its profile's list mail
      LEFT JOIN mail.suppression s ON s.address = lower(a.address)
                                  AND (s.profile_id IS NULL OR s.profile_id = n.profile_id)
                                  AND (s.kind <> 'unsubscribe' OR n.list_unsubscribe)
     ORDER BY n.id, lower(a.address), a.ord, a.pos
  ), inserted AS (
    INSERT INTO mail.recipient (mail_id, kind, address, display_name, domain, status, created_by)
    SELECT mail_id, kind, address, display_name, domain, status, created_by
      FROM parsed ORDER BY mail_id, ord, pos
    RETURNING id, mail_id, status, created_by
  ), queued_events AS (
    INSERT INTO mail.event_log (mail_id, event, created_by)
    SELECT n.id, 'queued', n.created_by FROM new_mail n ORDER BY n.id
    RETURNING 1
  ), suppressed_events AS (
    INSERT INTO mail.event_log (mail_id, recipient_id, event, reply_text, created_by)
    SELECT mail_id, id, 'suppressed', 'address is on the suppression list', created_by
      FROM inserted WHERE status = 'suppressed'
    RETURNING 1
  )
  SELECT (SELECT count(*) FROM queued_events), (SELECT count(*) FROM suppressed_events)
    INTO queued, suppressed;

  -- The row trigger counted the addresses as given against a cached max_recipients; the count of
  -- distinct recipients here holds even if the statement changed that cache.
  SELECT r.mail_id, count(*) AS n, coalesce(mail.setting('max_recipients'), '1000')::bigint AS max INTO bad
    FROM mail.recipient r WHERE r.mail_id IN (SELECT n.id FROM new_mail n)
   GROUP BY r.mail_id HAVING count(*) > coalesce(mail.setting('max_recipients'), '1000')::bigint LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION 'mail has % recipients, more than max_recipients (%)', bad.n, bad.max USING ERRCODE = 'MA007';
  END IF;

  IF suppressed > 0 THEN
    WITH failed AS (
      UPDATE mail.outbox o
         SET status = 'failed', updated_at = now(),
             last_reply_text = 'every recipient is on the suppression list'
       WHERE o.id IN (SELECT n.id FROM new_mail n)
         AND NOT EXISTS (SELECT 1 FROM mail.recipient r WHERE r.mail_id = o.id AND r.status <> 'suppressed')
      RETURNING o.id, o.created_by
    )
    INSERT INTO mail.event_log (mail_id, event, reply_text, created_by)
    SELECT id, 'failed', 'every recipient is on the suppression list', created_by FROM failed;
  END IF;

  IF queued > 0 THEN
    PERFORM pg_notify('mail_queued', '');
  END IF;
  RETURN NULL;
END
$$;

DROP TRIGGER IF EXISTS outbox_before_statement ON mail.outbox;
CREATE TRIGGER outbox_before_statement BEFORE INSERT ON mail.outbox
  FOR EACH STATEMENT EXECUTE FUNCTION mail.outbox_before_statement();
DROP TRIGGER IF EXISTS outbox_before_insert ON mail.outbox;
CREATE TRIGGER outbox_before_insert BEFORE INSERT ON mail.outbox
  FOR EACH ROW EXECUTE FUNCTION mail.outbox_before_insert();
DROP TRIGGER IF EXISTS outbox_after_insert ON mail.outbox;
CREATE TRIGGER outbox_after_insert AFTER INSERT ON mail.outbox
  REFERENCING NEW TABLE AS new_mail
  FOR EACH STATEMENT EXECUTE FUNCTION mail.outbox_after_insert();

-- BEFORE INSERT on mail.attachment: validates the file and adds its encoded size to the mail, which
-- must still be queued. Runs as the schema owner to update the mail's size; row security on
-- mail.attachment still requires created_by to be the inserting sender.
CREATE OR REPLACE FUNCTION mail.attachment_before_insert() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  ext text;
  invisible text;
  prohibited text;
  max_bytes bigint;
  mail_status mail.mail_status;
  mail_size bigint;
  owner name;
BEGIN
  NEW.filename := btrim(NEW.filename);
  IF NEW.filename IS NULL OR NEW.filename = '' THEN
    RAISE EXCEPTION 'attachment filename is empty' USING ERRCODE = 'MA017';
  END IF;
  PERFORM mail.check_header_value(NEW.filename, 'attachment filename');
  IF NEW.filename ~ '[[:cntrl:]/\\]' THEN
    RAISE EXCEPTION 'attachment filename must not contain control characters or path separators: %',
      NEW.filename USING ERRCODE = 'MA017';
  END IF;
  -- Invisible, spacing and direction-changing characters make "invoice.pdf​.exe" look harmless
  -- and hide an extension from the prohibited list.
  invisible := substring(NEW.filename FROM
    '([\u0080-\u009F\u00A0\u00AD\u034F\u061C\u115F\u1160\u1680\u180E\u2000-\u200F\u2028-\u202F\u205F-\u206F\u3000\u3164\uFE00-\uFE0F\uFEFF\uFFA0\uFFF9-\uFFFB])');
  IF invisible IS NOT NULL THEN
    RAISE EXCEPTION 'attachment filename must not contain invisible or direction-changing characters (U+%): %',
      upper(lpad(to_hex(ascii(invisible)), 4, '0')), NEW.filename USING ERRCODE = 'MA017';
  END IF;
  NEW.content_type := coalesce(NEW.content_type, 'application/octet-stream');
  PERFORM mail.check_header_value(NEW.content_type, 'attachment content_type');
  -- type/subtype and at most a charset: Postroom writes the name and every other parameter itself.
  IF NEW.content_type !~* '^[A-Za-z0-9!#$&^_.+-]+/[A-Za-z0-9!#$&^_.+-]+(\s*;\s*charset\s*=\s*("?)[A-Za-z0-9!#$%&''*+.^_`{|}~-]+\2)?\s*$' THEN
    RAISE EXCEPTION 'invalid attachment content_type: % (expected type/subtype, optionally with a charset parameter only)',
      NEW.content_type USING ERRCODE = 'MA017';
  END IF;
  IF NEW.content_id IS NOT NULL THEN
    PERFORM mail.check_header_value(NEW.content_id, 'attachment content_id');
    IF NEW.content_id !~ '^<?[^<>\s]+>?$' THEN
      RAISE EXCEPTION 'invalid attachment content_id: %', NEW.content_id USING ERRCODE = 'MA017';
    END IF;
  END IF;

  SELECT max(coalesce(s.value, s.default_value)) FILTER (WHERE s.name = 'prohibited_extensions'),
         coalesce(max(coalesce(s.value, s.default_value)) FILTER (WHERE s.name = 'max_message_bytes'), '26214400')::bigint
    INTO prohibited, max_bytes
    FROM mail.setting s WHERE s.name IN ('prohibited_extensions', 'max_message_bytes');
  -- Windows ignores trailing dots and spaces, so "x.exe." is an .exe too.
  ext := lower(substring(rtrim(NEW.filename, '. ') FROM '\.([^.]*)$'));
  IF ext = ANY (string_to_array(replace(prohibited, ' ', ''), ',')) THEN
    RAISE EXCEPTION 'attachment % has a prohibited extension (%)', NEW.filename, ext USING ERRCODE = 'MA006';
  END IF;

  NEW.size_bytes := octet_length(NEW.content);
  UPDATE mail.outbox o
     SET size_bytes = o.size_bytes + (NEW.size_bytes + 2) / 3 * 4 * 78 / 76
                      + 100 + 3 * octet_length(NEW.filename) + octet_length(NEW.content_type)
                      + coalesce(octet_length(NEW.content_id), 0),
         updated_at = now()
   WHERE o.id = NEW.mail_id
  RETURNING o.status, o.size_bytes, o.created_by INTO mail_status, mail_size, owner;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'mail % not found', NEW.mail_id USING ERRCODE = 'MA014';
  END IF;
  NEW.created_by := owner;
  IF mail_status <> 'queued' THEN
    RAISE EXCEPTION 'mail % is %: attachments can only be added while it is queued', NEW.mail_id, mail_status
      USING ERRCODE = 'MA014';
  END IF;
  IF mail_size > max_bytes THEN
    RAISE EXCEPTION 'message of % bytes (with attachment %) is over max_message_bytes (%)',
      mail_size, NEW.filename, max_bytes USING ERRCODE = 'MA007';
  END IF;
  RETURN NEW;
END
$$;

-- BEFORE INSERT on mail.attachment, as the inserting user and so under its row security: a mail the
-- caller cannot see is "not found", whether or not it exists. Fires before attachment_before_insert
-- (triggers fire in name order), which runs as the schema owner and must not tell more.
CREATE OR REPLACE FUNCTION mail.attachment_visible() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM 1 FROM mail.outbox o WHERE o.id = NEW.mail_id;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'mail % not found', NEW.mail_id USING ERRCODE = 'MA014';
  END IF;
  RETURN NEW;
END
$$;

DROP TRIGGER IF EXISTS attachment_a_visible ON mail.attachment;
CREATE TRIGGER attachment_a_visible BEFORE INSERT ON mail.attachment
  FOR EACH ROW EXECUTE FUNCTION mail.attachment_visible();
DROP TRIGGER IF EXISTS attachment_before_insert ON mail.attachment;
CREATE TRIGGER attachment_before_insert BEFORE INSERT ON mail.attachment
  FOR EACH ROW EXECUTE FUNCTION mail.attachment_before_insert();

DROP FUNCTION IF EXISTS mail.send(text, text, text, text, text, text, text, text, text, text, text, jsonb,
                                  mail.attachment_in[], timestamptz, int, text);
DROP FUNCTION IF EXISTS mail.send(text, text, text, text, text, text, text, text, text, text, text, jsonb,
                                  mail.attachment_in[], timestamptz, int, text, text, jsonb);
CREATE OR REPLACE FUNCTION mail.send(
  recipients text,
  subject text DEFAULT NULL,
  body text DEFAULT NULL,
  body_format text DEFAULT 'text',
  profile_name text DEFAULT NULL,
  copy_recipients text DEFAULT NULL,
  blind_copy_recipients text DEFAULT NULL,
  from_address text DEFAULT NULL,
  reply_to text DEFAULT NULL,
  importance text DEFAULT 'normal',
  sensitivity text DEFAULT 'normal',
  headers jsonb DEFAULT NULL,
  attachments mail.attachment_in[] DEFAULT NULL,
  send_at timestamptz DEFAULT NULL,
  priority int DEFAULT 0,
  idempotency_key text DEFAULT NULL,
  template_name text DEFAULT NULL,
  template_data jsonb DEFAULT NULL,
  list_unsubscribe boolean DEFAULT false
) RETURNS bigint
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
  new_id bigint;
BEGIN
  INSERT INTO mail.outbox (recipients, subject, body, body_format, profile_name, copy_recipients,
                           blind_copy_recipients, from_address, reply_to, importance, sensitivity,
                           headers, send_at, priority, idempotency_key, template_name, template_data,
                           list_unsubscribe)
  VALUES (send.recipients, send.subject, send.body, send.body_format, send.profile_name, send.copy_recipients,
          send.blind_copy_recipients, send.from_address, send.reply_to, send.importance, send.sensitivity,
          send.headers, send.send_at, send.priority, send.idempotency_key, send.template_name, send.template_data,
          coalesce(send.list_unsubscribe, false))
  -- Keys are per sender (created_by): another sender's equal key neither conflicts nor shows.
  ON CONFLICT (created_by, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
  RETURNING id INTO new_id;
  IF new_id IS NULL THEN
    SELECT o.id INTO new_id FROM mail.outbox o
     WHERE o.created_by = current_user AND o.idempotency_key = send.idempotency_key;
    IF NOT FOUND THEN
      RAISE EXCEPTION 'idempotency_key % conflicts with a mail this role cannot see', send.idempotency_key
        USING ERRCODE = 'MA015';
    END IF;
    RETURN new_id;
  END IF;
  IF send.attachments IS NOT NULL THEN
    INSERT INTO mail.attachment (mail_id, filename, content_type, content)
    SELECT new_id, a.filename, a.content_type, a.content FROM unnest(send.attachments) AS a;
  END IF;
  RETURN new_id;
END
$$;

CREATE OR REPLACE FUNCTION mail.attach(mail_id bigint, filename text, content_type text, content bytea,
                                       content_id text DEFAULT NULL) RETURNS bigint
LANGUAGE plpgsql AS $$
#variable_conflict use_variable
DECLARE
  attachment_id bigint;
BEGIN
  PERFORM 1 FROM mail.outbox o WHERE o.id = mail_id;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'mail % not found', mail_id USING ERRCODE = 'MA014';
  END IF;
  INSERT INTO mail.attachment AS t (mail_id, filename, content_type, content, content_id)
  VALUES (mail_id, filename, content_type, content, content_id)
  RETURNING t.id INTO attachment_id;
  RETURN attachment_id;
END
$$;

-- BEFORE INSERT on mail.event_log, for rows that name no owner (created_by left to its default): the
-- owner is the mail's, so its sender sees the event under row security.
CREATE OR REPLACE FUNCTION mail.event_log_owner() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  NEW.created_by := coalesce((SELECT o.created_by FROM mail.outbox o WHERE o.id = NEW.mail_id), NEW.created_by);
  RETURN NEW;
END
$$;

DROP TRIGGER IF EXISTS event_log_owner ON mail.event_log;
CREATE TRIGGER event_log_owner BEFORE INSERT ON mail.event_log
  FOR EACH ROW WHEN (NEW.mail_id IS NOT NULL AND NEW.created_by = CURRENT_USER)
  EXECUTE FUNCTION mail.event_log_owner();
