-- mail.delete_profile: finished mails keep their profile_name but lose the link to a deleted profile.
ALTER TABLE mail.outbox ALTER COLUMN profile_id DROP NOT NULL;
ALTER TABLE mail.outbox DROP CONSTRAINT outbox_profile_id_fkey;
ALTER TABLE mail.outbox ADD CONSTRAINT outbox_profile_id_fkey
  FOREIGN KEY (profile_id) REFERENCES mail.profile ON DELETE SET NULL;
