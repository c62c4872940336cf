-- Privileges and row security: mail_sender sees and changes only its own mails, mail_admin and
-- mail_dispatcher see everything, nobody else sees anything, and only admin and dispatcher read passwords.
-- Re-applied on every migrate (${flyway:timestamp}), after every other file, so that a function or
-- table another file (re)creates never keeps PostgreSQL's default privileges.

REVOKE ALL ON ALL TABLES IN SCHEMA mail FROM PUBLIC;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA mail FROM PUBLIC;
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA mail FROM PUBLIC;
GRANT USAGE ON SCHEMA mail TO mail_sender, mail_admin, mail_dispatcher;
GRANT USAGE ON TYPE mail.mail_status, mail.recipient_status, mail.attachment_in
  TO mail_sender, mail_admin, mail_dispatcher;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA mail TO mail_sender, mail_admin, mail_dispatcher;

-- mail_admin: everything.
GRANT ALL ON ALL TABLES IN SCHEMA mail TO mail_admin;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA mail TO mail_admin;

-- mail_sender: send, attach, cancel, retry and purge its own mails; read its own status.
GRANT SELECT ON mail.outbox, mail.recipient, mail.attachment, mail.event_log TO mail_sender;
GRANT INSERT (recipients, copy_recipients, blind_copy_recipients, subject, body, body_format,
              profile_name, from_address, reply_to, importance, sensitivity, headers, send_at,
              priority, idempotency_key)
  ON mail.outbox TO mail_sender;
GRANT UPDATE (status, attempts, next_attempt_at, expires_at, updated_at) ON mail.outbox TO mail_sender;
GRANT DELETE ON mail.outbox TO mail_sender;
GRANT UPDATE (status, next_attempt_at, updated_at) ON mail.recipient TO mail_sender;
GRANT INSERT (mail_id, filename, content_type, content, content_id) ON mail.attachment TO mail_sender;
GRANT INSERT (mail_id, recipient_id, event, reply_text, created_by) ON mail.event_log TO mail_sender;
GRANT SELECT ON mail.profile, mail.profile_account, mail.setting TO mail_sender;
GRANT SELECT (id, name, from_address, display_name, reply_to) ON mail.account TO mail_sender;
GRANT SELECT ON mail.all_items, mail.sent_items, mail.unsent_items, mail.failed_items, mail.queue_status
  TO mail_sender, mail_dispatcher;
GRANT EXECUTE ON FUNCTION
  mail.send(text, text, text, text, text, text, text, text, text, text, text, jsonb, mail.attachment_in[],
            timestamptz, int, text),
  mail.attach(bigint, text, text, bytea, text),
  mail.send_query_results(text, text, text, text, text, text),
  mail.cancel(bigint), mail.retry(bigint), mail.purge(timestamptz, text),
  mail.setting(text), mail.parse_addresses(text, text), mail.is_valid_address(text),
  mail.check_header_value(text, text), mail.check_headers(jsonb), mail.csv_field(text)
  TO mail_sender, mail_dispatcher;

-- mail_dispatcher: claim and record deliveries, enqueue notifications, maintain the suppression list.
GRANT SELECT, INSERT, UPDATE, DELETE ON mail.outbox, mail.recipient TO mail_dispatcher;
GRANT SELECT, INSERT ON mail.attachment, mail.event_log TO mail_dispatcher;
GRANT DELETE ON mail.event_log TO mail_dispatcher;
GRANT SELECT ON mail.account, mail.profile, mail.profile_account, mail.setting TO mail_dispatcher;
GRANT SELECT, INSERT, UPDATE ON mail.suppression TO mail_dispatcher;
GRANT SELECT ON mail.suppressed_addresses TO mail_dispatcher;
GRANT EXECUTE ON FUNCTION mail.purge_log(timestamptz), mail.suppress(text, text), mail.unsuppress(text)
  TO mail_dispatcher;

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
-- A sender may only cancel or re-queue its own mails, and never one a dispatcher is sending.
DROP POLICY IF EXISTS sender_update ON mail.outbox;
CREATE POLICY sender_update ON mail.outbox FOR UPDATE TO mail_sender
  USING (created_by = current_user AND status <> 'sending')
  WITH CHECK (created_by = current_user AND status IN ('queued', 'cancelled'));
DROP POLICY IF EXISTS sender_delete ON mail.outbox;
CREATE POLICY sender_delete ON mail.outbox FOR DELETE TO mail_sender USING (created_by = current_user);

DROP POLICY IF EXISTS staff ON mail.recipient;
CREATE POLICY staff ON mail.recipient TO mail_admin, mail_dispatcher USING (true) WITH CHECK (true);
DROP POLICY IF EXISTS sender_read ON mail.recipient;
CREATE POLICY sender_read ON mail.recipient FOR SELECT TO mail_sender USING (created_by = current_user);
DROP POLICY IF EXISTS sender_update ON mail.recipient;
CREATE POLICY sender_update ON mail.recipient FOR UPDATE TO mail_sender
  USING (created_by = current_user AND status <> 'delivered')
  WITH CHECK (created_by = current_user AND status = 'pending');

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
CREATE POLICY sender_insert ON mail.event_log FOR INSERT TO mail_sender WITH CHECK (created_by = current_user);
