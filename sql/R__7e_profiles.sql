-- Profiles per principal: mail.grant_profile / mail.revoke_profile (as sysmail_add_principalprofile_sp / _delete_).

-- Lets role use a private profile; is_default => true makes it that role's default profile (replacing
-- its previous default), which beats the global default. Granting again updates is_default.
CREATE OR REPLACE FUNCTION mail.grant_profile(profile_name text, role_name text, is_default boolean DEFAULT false)
RETURNS void
LANGUAGE plpgsql AS $$
#variable_conflict use_variable
DECLARE
  pid int;
BEGIN
  SELECT p.id INTO pid FROM mail.profile p WHERE p.name = profile_name;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'unknown profile: %', profile_name USING ERRCODE = 'MA004';
  END IF;
  IF role_name IS NULL OR NOT EXISTS (SELECT 1 FROM pg_roles r WHERE r.rolname = role_name) THEN
    RAISE EXCEPTION 'unknown role: %', role_name USING ERRCODE = 'MA016';
  END IF;
  IF coalesce(is_default, false) THEN
    UPDATE mail.profile_principal pp SET is_default = false
     WHERE pp.role_name = role_name AND pp.is_default AND pp.profile_id <> pid;
  END IF;
  INSERT INTO mail.profile_principal AS pp (profile_id, role_name, is_default)
  VALUES (pid, role_name, coalesce(is_default, false))
  ON CONFLICT ON CONSTRAINT profile_principal_pkey DO UPDATE SET is_default = EXCLUDED.is_default;
END
$$;

-- Takes a profile grant back; true when there was one.
CREATE OR REPLACE FUNCTION mail.revoke_profile(profile_name text, role_name text) RETURNS boolean
LANGUAGE plpgsql AS $$
#variable_conflict use_variable
BEGIN
  IF NOT EXISTS (SELECT 1 FROM mail.profile p WHERE p.name = profile_name) THEN
    RAISE EXCEPTION 'unknown profile: %', profile_name USING ERRCODE = 'MA004';
  END IF;
  DELETE FROM mail.profile_principal pp
   USING mail.profile p
   WHERE p.id = pp.profile_id AND p.name = profile_name AND pp.role_name = role_name;
  RETURN FOUND;
END
$$;
