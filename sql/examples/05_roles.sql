-- Roles: let an application role send (seeing only its own mail) and an operator administer.
DO $$
BEGIN
  CREATE ROLE example_app NOLOGIN;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
  NULL;
END
$$;
GRANT mail_sender TO example_app;

-- What the application sees is limited to its own mails by row security.
SET ROLE example_app;
SELECT mail.send('customer@example.com', 'Welcome', 'Thanks for signing up.');
SELECT count(*) AS my_mails FROM mail.all_items;
RESET ROLE;
