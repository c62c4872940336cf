-- Profiles per principal (as Database Mail's sysmail_add_principalprofile_sp): private profiles and the roles granted them.

ALTER TABLE mail.profile ADD COLUMN is_public boolean NOT NULL DEFAULT true;

-- role_name is a role name, not a reference: a dropped role's grants simply match nobody.
CREATE TABLE mail.profile_principal (
  profile_id int NOT NULL REFERENCES mail.profile ON DELETE CASCADE,
  role_name  name NOT NULL,
  is_default boolean NOT NULL DEFAULT false,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (profile_id, role_name)
);
CREATE UNIQUE INDEX profile_principal_one_default ON mail.profile_principal (role_name) WHERE is_default;
