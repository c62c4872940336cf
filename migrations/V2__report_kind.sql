-- What a delivery status notification reports: a failure (RFC 3464 Action: failed) or a delay.
ALTER TABLE mail.outbox ADD COLUMN report_kind text CHECK (report_kind IN ('failure', 'delay'));
