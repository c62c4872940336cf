-- Privileges and row security: mail_sender sees and changes only its own mails, mail_admin and
-- mail_dispatcher see everything, nobody else sees anything, and only admin and dispatcher read passwords.
-- Runs after every other file (R__7x and before sort first).

-- A function another file creates later (before this file runs again) is not executable by
-- everyone, as PostgreSQL's default would make it.
ALTER DEFAULT PRIVILEGES IN SCHEMA mail REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;

-- Start from nothing, so that a privilege an older version granted and this one does not is gone.
REVOKE ALL ON ALL TABLES IN SCHEMA mail FROM PUBLIC, mail_sender, mail_admin, mail_dispatcher;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA mail FROM PUBLIC, mail_sender, mail_admin, mail_dispatcher;
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA mail FROM PUBLIC, mail_sender, mail_admin, mail_dispatcher;
GRANT USAGE ON SCHEMA mail TO mail_sender, mail_admin, mail_dispatcher;
GRANT USAGE ON TYPE mail.mail_status, mail.recipient_status, mail.attachment_in
  TO mail_sender, mail_admin, mail_dispatcher;
-- Senders insert through identity columns, which need no sequence privilege: no USAGE on sequences, so
-- that a sender cannot burn through them with nextval.
GRANT USAGE ON ALL SEQUENCES IN SCHEMA mail TO mail_admin, mail_dispatcher;

-- mail_admin: everything.
GRANT ALL ON ALL TABLES IN SCHEMA mail TO mail_admin;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA mail TO mail_admin;
-- Account administration (sql/R__7a_account_admin.sql: update_account, update_profile, delete_account,
-- delete_profile, delete_profile_account; check_account in R__5_admin.sql): mail_admin only, through
-- the line above; senders and dispatchers get none of them.

-- mail_sender: send and attach; cancel, retry and purge its own mails through the SECURITY DEFINER
-- functions only (no UPDATE or DELETE on any table, no INSERT into the event log), so that no value
-- a sender writes can stall a claim; read its own status. docs/sql-api.md lists these privileges
-- exactly, and a test compares that list with the catalog.
GRANT SELECT ON mail.outbox, mail.recipient, mail.attachment, mail.event_log TO mail_sender;
GRANT INSERT (recipients, copy_recipients, blind_copy_recipients, subject, body, body_format,
              profile_name, from_address, reply_to, importance, sensitivity, headers, send_at,
              priority, idempotency_key, template_name, template_data, list_unsubscribe)
  ON mail.outbox TO mail_sender;
GRANT INSERT (mail_id, filename, content_type, content, content_id) ON mail.attachment TO mail_sender;
GRANT SELECT ON mail.profile, mail.profile_account, mail.profile_principal, mail.setting TO mail_sender;
GRANT SELECT (id, name, from_address, display_name, reply_to) ON mail.account TO mail_sender;
GRANT SELECT ON mail.all_items, mail.sent_items, mail.unsent_items, mail.failed_items, mail.queue_status
  TO mail_sender, mail_dispatcher;
GRANT EXECUTE ON FUNCTION
  mail.send(text, text, text, text, text, text, text, text, text, text, text, jsonb, mail.attachment_in[],
            timestamptz, int, text, text, jsonb, boolean),
  mail.attach(bigint, text, text, bytea, text),
  mail.send_query_results(text, text, text, text, text, text),
  mail.cancel(bigint), mail.retry(bigint), mail.purge(timestamptz, text),
  mail.setting(text), mail.parse_addresses(text, text), mail.is_valid_address(text),
  mail.check_header_value(text, text), mail.check_headers(jsonb), mail.csv_field(text),
  mail.count_addresses(text)
  TO mail_sender, mail_dispatcher;

-- Templates (sql/R__7b_templates.sql): mail_admin adds and drops them (above); a sender lists them,
-- previews them and sends from them. Both functions run as the schema owner.
GRANT SELECT ON mail.template TO mail_sender;
GRANT EXECUTE ON FUNCTION mail.render_template(text, jsonb), mail.outbox_apply_template(mail.outbox)
  TO mail_sender;

-- mail_dispatcher: claim and record deliveries, enqueue notifications, maintain the suppression list.
GRANT SELECT, INSERT, UPDATE, DELETE ON mail.outbox, mail.recipient TO mail_dispatcher;
GRANT SELECT, INSERT ON mail.attachment, mail.event_log TO mail_dispatcher;
GRANT DELETE ON mail.event_log TO mail_dispatcher;
GRANT SELECT ON mail.account, mail.profile, mail.profile_account, mail.profile_principal, mail.setting
  TO mail_dispatcher;
GRANT SELECT, INSERT, UPDATE ON mail.suppression TO mail_dispatcher;
GRANT SELECT ON mail.suppressed_addresses TO mail_dispatcher;
GRANT EXECUTE ON FUNCTION mail.purge_log(timestamptz), mail.suppress(text, text), mail.unsuppress(text)
  TO mail_dispatcher;

-- Shaping across dispatchers (R__7d_shaping.sql): the dispatcher takes and gives back session
-- slots and transaction tokens, records and ends throttle pauses, and reads the destination
-- policies; admins configure the policies (mail_admin has everything above). Senders get nothing.
GRANT SELECT ON mail.destination_policy TO mail_dispatcher;
GRANT SELECT, INSERT, UPDATE, DELETE ON mail.shaping_slot, mail.shaping_bucket, mail.shaping_pause,
  mail.shaping_count TO mail_dispatcher;
GRANT SELECT ON mail.destination_status TO mail_dispatcher;
GRANT EXECUTE ON FUNCTION
  mail.acquire_slots(text, interval, text[], int[], text[]), mail.renew_slots(text, interval),
  mail.release_slots(text, text[], int[]), mail.take_tokens(text[], int[], int, text[]),
  mail.record_throttle(text, boolean, int, text, text), mail.end_throttle(text, interval, interval),
  mail.count_transactions(text[], int[])
  TO mail_dispatcher;

-- DKIM and one-click unsubscribe (issue 15): private keys and the unsubscribe secret are for
-- admin (above) and dispatcher only; senders see neither, nor the key list.
GRANT SELECT ON mail.dkim_key, mail.unsubscribe_secret, mail.dkim_keys TO mail_dispatcher;

-- Row security. The schema owner (who runs the triggers that write recipients and events) bypasses it.
ALTER TABLE mail.outbox ENABLE ROW LEVEL SECURITY;
ALTER TABLE mail.recipient ENABLE ROW LEVEL SECURITY;
ALTER TABLE mail.attachment ENABLE ROW LEVEL SECURITY;
ALTER TABLE mail.event_log ENABLE ROW LEVEL SECURITY;

DROP POLICY IF EXISTS staff ON mail.outbox;
CREATE POLICY staff ON mail.outbox TO mail_admin, mail_dispatcher USING (true) WITH CHECK (true);
DROP POLICY IF EXISTS sender_read ON mail.outbox;
CREATE POLICY sender_read ON mail.outbox FOR SELECT TO mail_sender USING (created_by = current_user);
DROP POLICY IF EXISTS sender_insert ON mail.outbox;
CREATE POLICY sender_insert ON mail.outbox FOR INSERT TO mail_sender WITH CHECK (created_by = current_user);
-- Senders change mail only through mail.cancel / mail.retry / mail.purge (SECURITY DEFINER).
DROP POLICY IF EXISTS sender_update ON mail.outbox;
DROP POLICY IF EXISTS sender_delete ON mail.outbox;

DROP POLICY IF EXISTS staff ON mail.recipient;
CREATE POLICY staff ON mail.recipient TO mail_admin, mail_dispatcher USING (true) WITH CHECK (true);
DROP POLICY IF EXISTS sender_read ON mail.recipient;
CREATE POLICY sender_read ON mail.recipient FOR SELECT TO mail_sender USING (created_by = current_user);
DROP POLICY IF EXISTS sender_update ON mail.recipient;

DROP POLICY IF EXISTS staff ON mail.attachment;
CREATE POLICY staff ON mail.attachment TO mail_admin, mail_dispatcher USING (true) WITH CHECK (true);
DROP POLICY IF EXISTS sender_read ON mail.attachment;
CREATE POLICY sender_read ON mail.attachment FOR SELECT TO mail_sender USING (created_by = current_user);
DROP POLICY IF EXISTS sender_insert ON mail.attachment;
CREATE POLICY sender_insert ON mail.attachment FOR INSERT TO mail_sender WITH CHECK (created_by = current_user);

DROP POLICY IF EXISTS staff ON mail.event_log;
CREATE POLICY staff ON mail.event_log TO mail_admin, mail_dispatcher USING (true) WITH CHECK (true);
DROP POLICY IF EXISTS sender_read ON mail.event_log;
CREATE POLICY sender_read ON mail.event_log FOR SELECT TO mail_sender USING (created_by = current_user);
DROP POLICY IF EXISTS sender_insert ON mail.event_log;

-- Profiles per principal: a sender sees the profile grants that apply to it (its own role's and those
-- of roles whose privileges it has), which the enqueue trigger reads to pick its default profile.
ALTER TABLE mail.profile_principal ENABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS staff ON mail.profile_principal;
CREATE POLICY staff ON mail.profile_principal TO mail_admin, mail_dispatcher USING (true) WITH CHECK (true);
DROP POLICY IF EXISTS sender_read ON mail.profile_principal;
CREATE POLICY sender_read ON mail.profile_principal FOR SELECT TO mail_sender
  USING (role_name IN (SELECT r.rolname FROM pg_roles r WHERE pg_has_role(current_user, r.oid, 'USAGE')));
