-- Deliverability: DKIM keys (mail.add_dkim_key, mail.dkim_keys), one-click unsubscribe settings and the list_unsubscribe check.

INSERT INTO mail.setting (name, default_value, kind, description) VALUES
  ('unsubscribe_url', NULL, 'url',
   'Public base URL of the one-click unsubscribe endpoint (postroom run --http-port), e.g. https://mail.example.com/unsubscribe; list_unsubscribe mail needs it.'),
  ('unsubscribe_mailto', NULL, 'address',
   'Address offered as the mailto: alternative in List-Unsubscribe; NULL: none.'),
  ('dkim_sign_all_keys', 'false', 'boolean',
   'Sign with every key of the From domain (while rotating keys), not only the newest.')
ON CONFLICT (name) DO UPDATE
  SET default_value = EXCLUDED.default_value, kind = EXCLUDED.kind, description = EXCLUDED.description;

-- One DER element at 0-based offset pos: its tag, where its contents start and how long they are.
CREATE OR REPLACE FUNCTION mail.der_element(der bytea, pos int, OUT tag int, OUT body_start int,
                                            OUT body_length int)
LANGUAGE plpgsql IMMUTABLE STRICT AS $$
DECLARE
  first int;
  octets int;
BEGIN
  tag := get_byte(der, pos);
  first := get_byte(der, pos + 1);
  IF first < 128 THEN
    body_length := first;
    body_start := pos + 2;
  ELSE
    octets := first - 128;
    IF octets < 1 OR octets > 3 THEN
      RAISE EXCEPTION 'unsupported DER length' USING ERRCODE = 'MA025';
    END IF;
    body_length := 0;
    FOR i IN 1 .. octets LOOP
      body_length := body_length * 256 + get_byte(der, pos + 1 + i);
    END LOOP;
    body_start := pos + 2 + octets;
  END IF;
  IF body_start + body_length > octet_length(der) THEN
    RAISE EXCEPTION 'truncated DER element' USING ERRCODE = 'MA025';
  END IF;
END
$$;

-- A DER element: tag, definite length, contents.
CREATE OR REPLACE FUNCTION mail.der_wrap(tag int, contents bytea) RETURNS bytea
LANGUAGE plpgsql IMMUTABLE STRICT AS $$
DECLARE
  n int := octet_length(contents);
  len bytea := ''::bytea;
BEGIN
  IF n < 128 THEN
    RETURN set_byte('\x00'::bytea, 0, tag) || set_byte('\x00'::bytea, 0, n) || contents;
  END IF;
  WHILE n > 0 LOOP
    len := set_byte('\x00'::bytea, 0, n % 256) || len;
    n := n / 256;
  END LOOP;
  RETURN set_byte('\x00'::bytea, 0, tag) || set_byte('\x00'::bytea, 0, 128 + octet_length(len)) || len
         || contents;
END
$$;

-- Point addition on edwards25519 in extended coordinates (X, Y, Z, T), RFC 8032 §5.1.4.
CREATE OR REPLACE FUNCTION mail.ed25519_add(a numeric[], b numeric[]) RETURNS numeric[]
LANGUAGE plpgsql IMMUTABLE STRICT AS $$
DECLARE
  p constant numeric := 57896044618658097711785492504343953926634992332820282019728792003956564819949;
  d2 constant numeric := 2 * 37095705934669439343138083508754565189542113879843219016388785533085940283555;
  aa numeric := mod((a[2] - a[1]) * (b[2] - b[1]), p);
  bb numeric := mod((a[2] + a[1]) * (b[2] + b[1]), p);
  cc numeric := mod(mod(a[4] * d2, p) * b[4], p);
  dd numeric := mod(2 * a[3] * b[3], p);
  e numeric := bb - aa;
  f numeric := dd - cc;
  g numeric := dd + cc;
  h numeric := bb + aa;
BEGIN
  RETURN ARRAY[mod(e * f, p), mod(g * h, p), mod(f * g, p), mod(e * h, p)];
END
$$;

-- The Ed25519 public key (32 octets, RFC 8032 §5.1.5) of a 32-octet private key (the seed).
CREATE OR REPLACE FUNCTION mail.ed25519_public_key(seed bytea) RETURNS bytea
LANGUAGE plpgsql IMMUTABLE STRICT AS $$
DECLARE
  p constant numeric := 57896044618658097711785492504343953926634992332820282019728792003956564819949;
  base constant numeric[] := ARRAY[
    15112221349535400772501151409588531511454012693041857206046113283949847762202,
    46316835694926478169428394003475163141307993866256225615783033603165251855960, 1,
    mod(15112221349535400772501151409588531511454012693041857206046113283949847762202
        * 46316835694926478169428394003475163141307993866256225615783033603165251855960,
        57896044618658097711785492504343953926634992332820282019728792003956564819949)];
  h bytea := sha512(seed);
  q numeric[] := ARRAY[0, 1, 1, 0]::numeric[];
  octet int;
  z numeric;
  zinv numeric := 1;
  e numeric;
  x numeric;
  y numeric;
  result bytea := decode(repeat('00', 32), 'hex');
BEGIN
  IF octet_length(seed) <> 32 THEN
    RAISE EXCEPTION 'an Ed25519 private key has 32 octets' USING ERRCODE = 'MA025';
  END IF;
  -- the clamped scalar: low three bits cleared, bit 255 cleared, bit 254 set
  h := set_byte(h, 0, get_byte(h, 0) & 248);
  h := set_byte(h, 31, (get_byte(h, 31) & 127) | 64);
  FOR i IN REVERSE 254 .. 0 LOOP
    q := mail.ed25519_add(q, q);
    octet := get_byte(h, i / 8);
    IF (octet >> (i % 8)) & 1 = 1 THEN
      q := mail.ed25519_add(q, base);
    END IF;
  END LOOP;
  -- affine coordinates: multiply by Z^(p-2), the inverse of Z
  z := mod(mod(q[3], p) + p, p);
  e := p - 2;
  WHILE e > 0 LOOP
    IF mod(e, 2) = 1 THEN
      zinv := mod(zinv * z, p);
    END IF;
    z := mod(z * z, p);
    e := div(e, 2);
  END LOOP;
  x := mod(mod(q[1] * zinv, p) + p, p);
  y := mod(mod(q[2] * zinv, p) + p, p);
  FOR i IN 0 .. 31 LOOP
    result := set_byte(result, i, mod(y, 256)::int);
    y := div(y, 256);
  END LOOP;
  IF mod(x, 2) = 1 THEN
    result := set_byte(result, 31, get_byte(result, 31) | 128);
  END IF;
  RETURN result;
END
$$;

-- Reads a PEM private key (PKCS#8 "PRIVATE KEY" or PKCS#1 "RSA PRIVATE KEY") for the algorithm:
-- the key as PKCS#8 DER, the p= value of its DNS record, and its size in bits. Errors (MA025) say
-- what is wrong with the key, never any part of it.
CREATE OR REPLACE FUNCTION mail.dkim_read_key(pem text, algorithm text, OUT private_key bytea,
                                              OUT public_key bytea, OUT key_bits int)
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
  rsa_oid constant bytea := '\x2a864886f70d010101';
  ed25519_oid constant bytea := '\x2b6570';
  rsa_algorithm_id constant bytea := '\x300d06092a864886f70d0101010500';
  label text;
  der bytea;
  el record;
  oid record;
  inner_der bytea;
  rsa bytea;
  pos int;
  npos int;
  n record;
  e record;
  modulus bytea;
  seed record;
BEGIN
  label := substring(pem FROM '-----BEGIN ([A-Z0-9 ]+)-----');
  IF label IS NULL OR strpos(pem, '-----END ' || label || '-----') = 0 THEN
    RAISE EXCEPTION 'private_key_pem is not a PEM block (-----BEGIN PRIVATE KEY----- ... -----END PRIVATE KEY-----)'
      USING ERRCODE = 'MA025';
  END IF;
  IF label NOT IN ('PRIVATE KEY', 'RSA PRIVATE KEY') THEN
    RAISE EXCEPTION 'private_key_pem holds a % block; expected an unencrypted PRIVATE KEY (PKCS#8) or RSA PRIVATE KEY',
      label USING ERRCODE = 'MA025';
  END IF;
  IF pem ~ 'Proc-Type:\s*4,ENCRYPTED' THEN
    RAISE EXCEPTION 'private_key_pem is encrypted; give the unencrypted key (openssl pkey -in key.pem)'
      USING ERRCODE = 'MA025';
  END IF;
  BEGIN
    der := decode(regexp_replace(
                    substring(pem FROM '-----BEGIN ' || label || '-----(.*)-----END ' || label || '-----'),
                    '\s+', '', 'g'), 'base64');
    IF label = 'RSA PRIVATE KEY' THEN
      rsa := der;
      der := mail.der_wrap(48, '\x020100'::bytea || rsa_algorithm_id || mail.der_wrap(4, rsa));
    END IF;
    -- PrivateKeyInfo ::= SEQUENCE { version INTEGER, algorithm AlgorithmIdentifier, privateKey OCTET STRING, ... }
    el := mail.der_element(der, 0);
    IF el.tag <> 48 OR el.body_start + el.body_length <> octet_length(der) THEN
      RAISE EXCEPTION 'not a PKCS#8 structure' USING ERRCODE = 'MA025';
    END IF;
    el := mail.der_element(der, el.body_start);               -- version
    pos := el.body_start + el.body_length;
    el := mail.der_element(der, pos);                         -- AlgorithmIdentifier
    oid := mail.der_element(der, el.body_start);
    pos := el.body_start + el.body_length;
    el := mail.der_element(der, pos);                         -- privateKey
    IF el.tag <> 4 OR oid.tag <> 6 THEN
      RAISE EXCEPTION 'not a PKCS#8 structure' USING ERRCODE = 'MA025';
    END IF;
    inner_der := substring(der FROM el.body_start + 1 FOR el.body_length);
    IF substring(der FROM oid.body_start + 1 FOR oid.body_length) = rsa_oid THEN
      IF algorithm <> 'rsa-sha256' THEN
        RAISE EXCEPTION 'the key is an RSA key, not one for %', algorithm USING ERRCODE = 'MA025';
      END IF;
      -- RSAPrivateKey ::= SEQUENCE { version, modulus, publicExponent, ... }
      el := mail.der_element(inner_der, 0);
      el := mail.der_element(inner_der, el.body_start);
      npos := el.body_start + el.body_length;
      n := mail.der_element(inner_der, npos);
      e := mail.der_element(inner_der, n.body_start + n.body_length);
      IF n.tag <> 2 OR e.tag <> 2 THEN
        RAISE EXCEPTION 'not an RSA private key' USING ERRCODE = 'MA025';
      END IF;
      modulus := ltrim(substring(inner_der FROM n.body_start + 1 FOR n.body_length), '\x00'::bytea);
      key_bits := 8 * (octet_length(modulus) - 1) + length(ltrim(get_byte(modulus, 0)::bit(8)::text, '0'));
      public_key := mail.der_wrap(48, rsa_algorithm_id || mail.der_wrap(3, '\x00'::bytea || mail.der_wrap(48,
                      substring(inner_der FROM npos + 1 FOR e.body_start + e.body_length - npos))));
    ELSIF substring(der FROM oid.body_start + 1 FOR oid.body_length) = ed25519_oid THEN
      IF algorithm <> 'ed25519-sha256' THEN
        RAISE EXCEPTION 'the key is an Ed25519 key, not one for %', algorithm USING ERRCODE = 'MA025';
      END IF;
      -- CurvePrivateKey ::= OCTET STRING (the 32-octet seed), RFC 8410
      seed := mail.der_element(inner_der, 0);
      IF seed.tag <> 4 OR seed.body_length <> 32 THEN
        RAISE EXCEPTION 'not an Ed25519 private key' USING ERRCODE = 'MA025';
      END IF;
      public_key := mail.ed25519_public_key(substring(inner_der FROM seed.body_start + 1 FOR 32));
      key_bits := 256;
    ELSE
      RAISE EXCEPTION 'the key is neither RSA nor Ed25519' USING ERRCODE = 'MA025';
    END IF;
    private_key := der;
  EXCEPTION WHEN OTHERS THEN
    -- decode() and get_byte() errors could quote key material: report the kind of failure only
    IF SQLSTATE = 'MA025' THEN
      RAISE EXCEPTION 'private_key_pem is not a usable % key: %', algorithm, SQLERRM USING ERRCODE = 'MA025';
    END IF;
    RAISE EXCEPTION 'private_key_pem is not a usable % key: its contents are not valid base64 DER', algorithm
      USING ERRCODE = 'MA025';
  END;
  IF algorithm = 'rsa-sha256' AND key_bits < 1024 THEN
    RAISE EXCEPTION 'RSA key of % bits is too weak for DKIM (RFC 8301: at least 1024, 2048 recommended)', key_bits
      USING ERRCODE = 'MA025';
  END IF;
END
$$;

-- Adds a signing key for mail from domain; the dispatcher signs with it from its next key refresh.
CREATE OR REPLACE FUNCTION mail.add_dkim_key(domain text, selector text, private_key_pem text,
                                             algorithm text DEFAULT 'rsa-sha256') RETURNS int
LANGUAGE plpgsql AS $$
#variable_conflict use_variable
DECLARE
  d text := lower(rtrim(btrim(domain), '.'));
  s text := lower(btrim(selector));
  a text := lower(btrim(algorithm));
  k record;
  new_id int;
BEGIN
  IF d IS NULL OR d !~ '^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$' THEN
    RAISE EXCEPTION 'invalid DKIM domain: % (expected a domain name such as example.com)', domain
      USING ERRCODE = 'MA025';
  END IF;
  IF s IS NULL OR s !~ '^[a-z0-9]([a-z0-9_-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9_-]*[a-z0-9])?)*$' THEN
    RAISE EXCEPTION 'invalid DKIM selector: % (expected letters, digits, hyphens, dots)', selector
      USING ERRCODE = 'MA025';
  END IF;
  IF a IS NULL OR a NOT IN ('rsa-sha256', 'ed25519-sha256') THEN
    RAISE EXCEPTION 'invalid DKIM algorithm: % (expected rsa-sha256 or ed25519-sha256)', algorithm
      USING ERRCODE = 'MA025';
  END IF;
  IF private_key_pem IS NULL THEN
    RAISE EXCEPTION 'private_key_pem is missing' USING ERRCODE = 'MA025';
  END IF;
  PERFORM 1 FROM mail.dkim_key dk WHERE dk.domain = d AND dk.selector = s;
  IF FOUND THEN
    RAISE EXCEPTION 'DKIM key %._domainkey.% exists: drop it first, or use a new selector to rotate', s, d
      USING ERRCODE = 'MA025';
  END IF;
  k := mail.dkim_read_key(private_key_pem, a);
  INSERT INTO mail.dkim_key (domain, selector, algorithm, private_key, public_key, key_bits)
  VALUES (d, s, a, k.private_key, k.public_key, k.key_bits)
  RETURNING id INTO new_id;
  RETURN new_id;
END
$$;

-- Removes a signing key; true when it existed. Mail already handed to a server keeps its signature.
CREATE OR REPLACE FUNCTION mail.drop_dkim_key(domain text, selector text) RETURNS boolean
LANGUAGE plpgsql AS $$
#variable_conflict use_variable
BEGIN
  DELETE FROM mail.dkim_key dk
   WHERE dk.domain = lower(rtrim(btrim(domain), '.')) AND dk.selector = lower(btrim(selector));
  RETURN FOUND;
END
$$;

-- The keys without their private part, and the TXT record to publish at selector._domainkey.domain.
CREATE OR REPLACE VIEW mail.dkim_keys AS
SELECT k.domain, k.selector, k.algorithm, k.key_bits, k.created_at,
       k.selector || '._domainkey.' || k.domain AS dns_name,
       'v=DKIM1; k=' || CASE k.algorithm WHEN 'ed25519-sha256' THEN 'ed25519' ELSE 'rsa' END
         || '; p=' || translate(encode(k.public_key, 'base64'), E'\n', '') AS dns_record
  FROM mail.dkim_key k;

-- BEFORE INSERT on mail.outbox, after outbox_before_insert (triggers fire in name order), for list
-- mail only: one recipient (the token names it) and a published unsubscribe endpoint.
CREATE OR REPLACE FUNCTION mail.outbox_check_list_unsubscribe() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  n bigint;
BEGIN
  SELECT count(DISTINCT lower(p.address)) INTO n
    FROM (VALUES (NEW.recipients, 'recipients'), (NEW.copy_recipients, 'copy_recipients'),
                 (NEW.blind_copy_recipients, 'blind_copy_recipients')) AS l (list, field)
    CROSS JOIN LATERAL mail.parse_addresses(l.list, l.field) p;
  IF n <> 1 THEN
    RAISE EXCEPTION 'list_unsubscribe mail must have exactly one recipient, not %', n
      USING ERRCODE = 'MA022';
  END IF;
  IF (SELECT coalesce(s.value, s.default_value) FROM mail.setting s WHERE s.name = 'unsubscribe_url') IS NULL THEN
    RAISE EXCEPTION 'list_unsubscribe needs the unsubscribe_url setting (mail.configure(''unsubscribe_url'', ''https://.../unsubscribe''))'
      USING ERRCODE = 'MA023';
  END IF;
  RETURN NEW;
END
$$;

DROP TRIGGER IF EXISTS outbox_list_unsubscribe ON mail.outbox;
CREATE TRIGGER outbox_list_unsubscribe BEFORE INSERT ON mail.outbox
  FOR EACH ROW WHEN (NEW.list_unsubscribe) EXECUTE FUNCTION mail.outbox_check_list_unsubscribe();
