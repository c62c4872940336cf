-- Templates: an invoice from a Mustache template, and a trigger on an application table that alerts from a template once per failed job run.

-- An HTML template: {{var}} is HTML-escaped in the body, {{{var}}} is not, the subject is never escaped.
SELECT mail.add_template(
  name        => 'invoice',
  subject     => 'Invoice {{number}} for {{customer.name}}',
  body        => $tmpl$<p>Dear {{customer.name}},</p>
<table>
  {{#lines}}
  <tr><td>{{item}}</td><td>{{quantity}}</td><td>{{amount}} EUR</td></tr>
  {{/lines}}
</table>
<p>Total: {{total}} EUR</p>
{{^paid}}<p>Please pay within 14 days.</p>{{/paid}}
$tmpl$,
  body_format => 'html');

-- Preview what a mail would contain (the dispatcher renders the same text when it sends).
SELECT subject, body
  FROM mail.render_template('invoice', '{"number": 42, "customer": {"name": "Ann & Co"},
         "lines": [{"item": "Tea", "quantity": 2, "amount": 3.00}], "total": 3.00, "paid": false}');

-- Send from it: the data is usually built from the application's own tables.
SELECT mail.send(
  recipients      => 'ann@example.com',
  template_name   => 'invoice',
  template_data   => jsonb_build_object(
                       'number', 42,
                       'customer', jsonb_build_object('name', 'Ann & Co'),
                       'lines', jsonb_build_array(
                                  jsonb_build_object('item', 'Tea', 'quantity', 2, 'amount', 3.00),
                                  jsonb_build_object('item', 'Café ☕', 'quantity', 1, 'amount', 2.50)),
                       'total', 5.50,
                       'paid', false),
  idempotency_key => 'invoice-42');

-- Error handling in the database, as Database Mail is classically used: an application table of job
-- runs, and a trigger that sends an alert when a run reports a failure, in the same transaction (a
-- rolled-back run sends nothing). The idempotency key names the job and the day it ran for, not
-- the attempt, so a retried job that fails again does not alert twice.
CREATE TABLE job_run (
  id       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  job      text NOT NULL,
  run_for  date NOT NULL,
  attempt  int NOT NULL DEFAULT 1,
  status   text NOT NULL CHECK (status IN ('running', 'succeeded', 'failed')),
  error    text,
  finished_at timestamptz
);

SELECT mail.add_template(
  name    => 'job_failed',
  subject => 'Job {{job}} failed for {{run_for}}',
  body    => $tmpl$Job {{job}} (run for {{run_for}}, attempt {{attempt}}) failed at {{finished_at}}.

Error:
{{error}}
{{^error}}(no error text was recorded){{/error}}
$tmpl$);

CREATE FUNCTION job_run_alert() RETURNS trigger
LANGUAGE plpgsql AS $fn$
BEGIN
  IF NEW.status = 'failed' AND (TG_OP = 'INSERT' OR OLD.status IS DISTINCT FROM 'failed') THEN
    PERFORM mail.send(
      recipients      => 'ops@example.com',
      template_name   => 'job_failed',
      template_data   => jsonb_build_object('job', NEW.job, 'run_for', NEW.run_for, 'attempt', NEW.attempt,
                                            'error', NEW.error, 'finished_at', NEW.finished_at),
      importance      => 'high',
      idempotency_key => 'job-failed:' || NEW.job || ':' || NEW.run_for);
  END IF;
  RETURN NEW;
END
$fn$;

CREATE TRIGGER job_run_alert AFTER INSERT OR UPDATE OF status ON job_run
  FOR EACH ROW EXECUTE FUNCTION job_run_alert();

-- The nightly billing job fails, is retried, and fails again: one alert.
INSERT INTO job_run (job, run_for, attempt, status) VALUES ('nightly-billing', '2026-12-01', 1, 'running');
UPDATE job_run SET status = 'failed', error = 'payment gateway timed out', finished_at = now()
 WHERE job = 'nightly-billing' AND attempt = 1;
INSERT INTO job_run (job, run_for, attempt, status, error, finished_at)
VALUES ('nightly-billing', '2026-12-01', 2, 'failed', 'payment gateway timed out again', now());

SELECT count(*) AS alerts FROM mail.outbox WHERE template_name = 'job_failed';
