-- Maintenance: cancel and retry, the suppression list, and purging old mail and log rows.
SELECT mail.cancel(id) FROM mail.outbox WHERE subject = 'Stand-up reminder';
SELECT mail.retry(id) FROM mail.outbox WHERE subject = 'Stand-up reminder';

-- Addresses known to be dead are recorded as 'suppressed' at enqueue, without any SMTP attempt.
SELECT mail.suppress('old-employee@example.com', 'left the company');
SELECT address, reason, created_at FROM mail.suppressed_addresses;
SELECT mail.unsuppress('old-employee@example.com');

-- Retention, as sysmail_delete_mailitems_sp and sysmail_delete_log_sp do it.
SELECT mail.purge(now() - mail.setting('retention')::interval);                 -- finished mails
SELECT mail.purge(now() - interval '7 days', 'failed');                          -- one status only
SELECT mail.purge_log(now() - mail.setting('retention')::interval);
