-- Status: the Database Mail-style item views, per-recipient outcomes, the event log and the queue summary.
SELECT id, status, sent_status, subject, recipient_count, delivered_count, failed_count, attempts, next_attempt_at
  FROM mail.all_items ORDER BY id;

SELECT id, subject, next_attempt_at FROM mail.unsent_items ORDER BY priority DESC, next_attempt_at;
SELECT id, subject, last_reply_code, last_enhanced_code, last_reply_text FROM mail.failed_items;
SELECT id, subject, sent_at FROM mail.sent_items;

-- One row per recipient: who got it, who did not, and what the server said.
SELECT r.mail_id, r.kind, r.address, r.status, r.reply_code, r.enhanced_code, r.reply_text, r.remote_host
  FROM mail.recipient r ORDER BY r.mail_id, r.id;

SELECT logged_at, mail_id, event, account_name, smtp_stage, reply_code, reply_text
  FROM mail.event_log ORDER BY id;

SELECT * FROM mail.queue_status;
