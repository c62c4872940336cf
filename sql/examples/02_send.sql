-- Sending: the stored-procedure call, the plain insert, attachments, scheduling, idempotency and query results.
SELECT mail.send(
  recipients      => 'ann@example.com; Bob <bob@example.org>',
  subject         => 'Invoice 42',
  body            => '<p>Hello, your invoice is attached.</p>',
  body_format     => 'html',
  copy_recipients => '"Accounts, Example" <accounts@example.com>',
  importance      => 'high',
  headers         => '{"X-Invoice": "42"}',
  attachments     => ARRAY[ROW('invoice-42.txt', 'text/plain', convert_to('Total: 42.00 EUR', 'UTF8'))::mail.attachment_in]);

-- The plain insert path: same validation, same result.
INSERT INTO mail.outbox (recipients, subject, body)
VALUES ('ops@example.com', 'Nightly job finished', 'All 12 steps succeeded.')
RETURNING id, status, message_id;

-- Not before tomorrow 08:00 UTC, ahead of other queued mail.
SELECT mail.send('team@example.com', 'Stand-up reminder', 'Stand-up at 09:00.',
                 send_at => date_trunc('day', now()) + interval '1 day 8 hours', priority => 10);

-- A repeated idempotency key returns the first mail's id and enqueues nothing.
SELECT mail.send('buyer@example.com', 'Order 1001 confirmed', idempotency_key => 'order-1001-confirmation') AS first,
       mail.send('buyer@example.com', 'Order 1001 confirmed', idempotency_key => 'order-1001-confirmation') AS again;

-- Attach in the same transaction as the send, e.g. an inline image referred to by cid:logo.
DO $$
DECLARE
  id bigint;
BEGIN
  id := mail.send('ann@example.com', 'Newsletter', '<img src="cid:logo"> News', body_format => 'html');
  PERFORM mail.attach(id, 'logo.png', 'image/png', decode('89504e470d0a1a0a', 'hex'), content_id => 'logo');
END
$$;

-- Like sp_send_dbmail's @query: the result, run as the caller, attached as CSV with a header row.
SELECT mail.send_query_results(
  recipients          => 'ops@example.com',
  query               => 'SELECT status, count(*) AS mails FROM mail.outbox GROUP BY status ORDER BY status',
  subject             => 'Outbox summary',
  attachment_filename => 'outbox.csv');
