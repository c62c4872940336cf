-- Mustache templates (mail.template) and the template a queued mail was enqueued from, copied onto its outbox row.

CREATE TABLE mail.template (
  id          int GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name        text NOT NULL UNIQUE,
  subject     text NOT NULL,
  body        text NOT NULL,
  body_format text NOT NULL DEFAULT 'text' CHECK (body_format IN ('text', 'html')),
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now(),
  created_by  name NOT NULL DEFAULT current_user
);

-- A mail sent from a template keeps the template's text as it was at enqueue, so editing or
-- dropping the template later changes nothing already queued. subject and body stay NULL until the
-- dispatcher renders them (when it claims the mail) and then hold exactly what was sent.
ALTER TABLE mail.outbox
  ADD COLUMN template_name    text,
  ADD COLUMN template_subject text,
  ADD COLUMN template_body    text,
  ADD COLUMN template_data    jsonb;
