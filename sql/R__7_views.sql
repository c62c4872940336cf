-- Status views named as Database Mail names them, the queue summary and the suppression list for admins.

CREATE OR REPLACE VIEW mail.all_items WITH (security_invoker = true) AS
SELECT o.id,
       o.id AS mailitem_id,
       o.status,
       CASE o.status
         WHEN 'sent' THEN 'sent'
         WHEN 'partially_sent' THEN 'sent'
         WHEN 'retrying' THEN 'retrying'
         WHEN 'failed' THEN 'failed'
         WHEN 'cancelled' THEN 'cancelled'
         ELSE 'unsent'
       END AS sent_status,
       o.profile_id, o.profile_name, o.account_id, a.name AS account_name,
       o.recipients, o.copy_recipients, o.blind_copy_recipients,
       o.subject, o.body, o.body_format, o.from_address, o.reply_to, o.importance, o.sensitivity,
       o.headers, o.send_at, o.priority, o.idempotency_key, o.message_id,
       o.attempts, o.next_attempt_at, o.sent_at, o.expires_at,
       o.last_reply_code, o.last_enhanced_code, o.last_reply_text,
       o.size_bytes, o.report_for,
       r.recipient_count, r.delivered_count, r.failed_count, r.pending_count, r.suppressed_count,
       (SELECT count(*) FROM mail.attachment t WHERE t.mail_id = o.id) AS attachment_count,
       o.created_at, o.created_by, o.updated_at
  FROM mail.outbox o
  LEFT JOIN mail.account a ON a.id = o.account_id
  CROSS JOIN LATERAL (
    SELECT count(*) AS recipient_count,
           count(*) FILTER (WHERE rc.status = 'delivered') AS delivered_count,
           count(*) FILTER (WHERE rc.status = 'failed') AS failed_count,
           count(*) FILTER (WHERE rc.status IN ('pending', 'deferred')) AS pending_count,
           count(*) FILTER (WHERE rc.status = 'suppressed') AS suppressed_count
      FROM mail.recipient rc WHERE rc.mail_id = o.id
  ) r;

-- Delivered to at least one recipient.
CREATE OR REPLACE VIEW mail.sent_items WITH (security_invoker = true) AS
SELECT * FROM mail.all_items WHERE status IN ('sent', 'partially_sent');

-- Not finished yet: queued, being sent, or waiting for a retry.
CREATE OR REPLACE VIEW mail.unsent_items WITH (security_invoker = true) AS
SELECT * FROM mail.all_items WHERE status IN ('queued', 'sending', 'retrying');

-- At least one recipient failed: failed and partially sent mails.
CREATE OR REPLACE VIEW mail.failed_items WITH (security_invoker = true) AS
SELECT * FROM mail.all_items WHERE status IN ('failed', 'partially_sent');

CREATE OR REPLACE VIEW mail.queue_status WITH (security_invoker = true) AS
SELECT count(*) FILTER (WHERE status = 'queued') AS queued,
       count(*) FILTER (WHERE status = 'sending') AS sending,
       count(*) FILTER (WHERE status = 'retrying') AS retrying,
       count(*) FILTER (WHERE status = 'sent') AS sent,
       count(*) FILTER (WHERE status = 'partially_sent') AS partially_sent,
       count(*) FILTER (WHERE status = 'failed') AS failed,
       count(*) FILTER (WHERE status = 'cancelled') AS cancelled,
       count(*) FILTER (WHERE status IN ('queued', 'retrying') AND next_attempt_at <= now()) AS due,
       -- Clamped: now() minus -infinity would raise and take the summary down with it.
       now() - greatest(min(next_attempt_at) FILTER (WHERE status IN ('queued', 'retrying')
                                                       AND next_attempt_at <= now()),
                        timestamptz '0001-01-01 00:00+00') AS oldest_due_age
  FROM mail.outbox;

CREATE OR REPLACE VIEW mail.suppressed_addresses WITH (security_invoker = true) AS
SELECT s.address, s.reason, s.created_at, s.created_by, s.mail_id,
       o.subject AS mail_subject,
       r.reply_code, r.enhanced_code, r.reply_text,
       s.kind, s.profile_id, (SELECT p.name FROM mail.profile p WHERE p.id = s.profile_id) AS profile_name
  FROM mail.suppression s
  LEFT JOIN mail.outbox o ON o.id = s.mail_id
  LEFT JOIN LATERAL (
    SELECT rc.reply_code, rc.enhanced_code, rc.reply_text FROM mail.recipient rc
     WHERE rc.mail_id = s.mail_id AND lower(rc.address) = s.address
     ORDER BY rc.id LIMIT 1
  ) r ON true;
