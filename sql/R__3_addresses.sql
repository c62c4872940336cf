-- Address-list parsing and RFC 5321 mailbox validation, shared by enqueue, accounts and the suppression list.

-- True when addr is an RFC 5321 Mailbox (local-part@domain), with RFC 6531 UTF-8 allowed in both parts,
-- that Postroom can carry: a quoted local part holds no space, quote, backslash, comma, semicolon or
-- angle bracket, there are no address literals (x@[192.0.2.1] would let a sender aim an MX account at
-- any host), and no C1 control characters. The same rule as MailAddress.problem in Java; both are
-- tested with one list of odd addresses (AddressRuleTest). The first, plain-ASCII pattern is only a
-- faster path for the common case.
CREATE OR REPLACE FUNCTION mail.is_valid_address(addr text) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT (addr ~ '^[A-Za-z0-9!#$%&''*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&''*+/=?^_`{|}~-]+)*@[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$'
          OR addr ~ ('^(?:(?:[A-Za-z0-9!#$%&''*+/=?^_`{|}~-]|[^[:ascii:]])+'
                 || '(?:\.(?:[A-Za-z0-9!#$%&''*+/=?^_`{|}~-]|[^[:ascii:]])+)*'
                 || '|"[^"\\,;<>[:space:][:cntrl:]]*")'
                 || '@(?:(?:[A-Za-z0-9]|[^[:ascii:]])(?:(?:[A-Za-z0-9-]|[^[:ascii:]])*(?:[A-Za-z0-9]|[^[:ascii:]]))?'
                 || '(?:\.(?:[A-Za-z0-9]|[^[:ascii:]])(?:(?:[A-Za-z0-9-]|[^[:ascii:]])*(?:[A-Za-z0-9]|[^[:ascii:]]))?)*)$')
              AND addr !~ '[\u0080-\u009F]')
     AND octet_length(substring(addr FROM '^(.*)@[^@]*$')) <= 64
     AND octet_length(substring(addr FROM '@([^@]*)$')) <= 255
     AND substring(addr FROM '@([^@]*)$') !~ '[^.]{64}'
$$;

-- Splits an address list (';' or ',' separated; "addr", "Name <addr>" and "\"Quoted, Name\" <addr>" forms)
-- into mailboxes, in list order. Raises MA003 on a line break and MA002 on anything that is not a mailbox;
-- field names the parameter in the message. NULL or blank lists yield no rows.
CREATE OR REPLACE FUNCTION mail.parse_addresses(list text, field text DEFAULT 'address')
RETURNS TABLE (address text, display_name text, domain text)
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE ROWS 2 AS $$
DECLARE
  item_re constant text := '(?:"(?:[^"\\]|\\.)*"|<[^<>]*>|[^,;"<>])+';
  m text[];
  item text;
  name text;
  addr text;
BEGIN
  IF strpos(list, E'\r') > 0 OR strpos(list, E'\n') > 0 THEN
    RAISE EXCEPTION 'line break in %: %', field, replace(replace(list, E'\r', '\r'), E'\n', '\n')
      USING ERRCODE = 'MA003';
  END IF;
  -- The common case, one bare address, skips the splitting.
  IF list !~ '[,;"<>]' THEN
    addr := btrim(list, E' \t');
    IF addr = '' THEN
      RETURN;
    END IF;
    IF NOT mail.is_valid_address(addr) THEN
      RAISE EXCEPTION 'invalid address in %: %', field, addr USING ERRCODE = 'MA002';
    END IF;
    address := addr;
    domain := lower(substring(addr FROM '@([^@]*)$'));
    RETURN NEXT;
    RETURN;
  END IF;
  IF regexp_replace(list, item_re, '', 'g') !~ '^[\s,;]*$' THEN
    RAISE EXCEPTION 'invalid address list in % (unbalanced quote or angle bracket): %', field, list
      USING ERRCODE = 'MA002';
  END IF;
  FOR m IN SELECT regexp_matches(list, item_re, 'g') LOOP
    item := btrim(m[1], E' \t');
    CONTINUE WHEN item = '';
    m := regexp_match(item, '^((?:"(?:[^"\\]|\\.)*"|[^"<])*)<([^<>]*)>$');
    IF m IS NULL THEN
      name := NULL;
      addr := item;
    ELSE
      name := btrim(m[1], E' \t');
      addr := btrim(m[2], E' \t');
      IF name ~ '^".*"$' THEN
        name := regexp_replace(substr(name, 2, length(name) - 2), '\\(.)', '\1', 'g');
      END IF;
      name := nullif(name, '');
    END IF;
    IF NOT mail.is_valid_address(addr) THEN
      RAISE EXCEPTION 'invalid address in %: %', field, item USING ERRCODE = 'MA002';
    END IF;
    address := addr;
    display_name := name;
    domain := lower(substring(addr FROM '@([^@]*)$'));
    RETURN NEXT;
  END LOOP;
END
$$;
