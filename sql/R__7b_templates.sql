-- Templates: mail.add_template, mail.drop_template, mail.render_template, and the Mustache reader in PL/pgSQL behind the syntax check and the preview.

-- The dispatcher renders mail with mustache.java (dev.postroom.template.TemplateEngine). The reader
-- and renderer below follow that library's behaviour (its tag parsing, its whitespace rules around
-- section tags, its notion of false values, its HTML escaping) on the subset Postroom allows, so
-- that a preview equals the mail; TemplateCorpusTest runs one corpus through both and compares.
-- Refused (MA021) because a mail has no other files or settings to refer to: partials {{>x}},
-- delimiter changes {{=<% %>=}}, pragmas {{%x}} and mustache.java's extensions {{<x}} {{$x}} {{?x}}.

-- Templates store line breaks as LF (a mail goes out with CRLF whatever it holds).
CREATE OR REPLACE FUNCTION mail.template_text(source text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT replace(replace(source, E'\r\n', E'\n'), E'\r', E'\n')
$$;

-- Raises MA021 naming the template part, the line and the problem.
CREATE OR REPLACE FUNCTION mail.template_error(label text, line int, problem text) RETURNS void
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
  RAISE EXCEPTION '%, line %: %', label, line, problem USING ERRCODE = 'MA021';
END
$$;

-- A tag's name as mustache.java reads it: trimmed of spaces and control characters; '.' or dotted
-- names without empty parts.
CREATE OR REPLACE FUNCTION mail.template_name_of(raw text, label text, line int, shown text) RETURNS text
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
  name text := regexp_replace(raw, '^[\x01-\x20]+|[\x01-\x20]+$', '', 'g');
BEGIN
  IF name = '' THEN
    PERFORM mail.template_error(label, line, 'tag ' || shown || ' has no name');
  END IF;
  IF name <> '.' AND (name ~ '^\.|\.$|\.\.' ) THEN
    PERFORM mail.template_error(label, line, 'tag ' || shown || ' has an invalid name (empty part in a dotted name)');
  END IF;
  RETURN name;
END
$$;

-- Appends the text chars[first..last] (if any) to a node list.
CREATE OR REPLACE FUNCTION mail.template_add_text(items jsonb[], chars text[], first int, last int) RETURNS jsonb[]
LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN last < first THEN items
              ELSE array_append(items, jsonb_build_object('k', 't', 's', array_to_string(chars[first:last], '')))
         END
$$;

-- Reads one level of a template (the top, or a section's content up to its closing tag), as
-- mustache.java's MustacheParser.compile does. Nodes: {"k":"t","s":text}, {"k":"v","n":name,"e":escaped},
-- {"k":"#" or "^","n":name,"c":[nodes]}. Returns where reading stopped and the line count so far
-- (like the library, line breaks inside a tag are not counted).
CREATE OR REPLACE FUNCTION mail.template_read(
  chars text[], start_pos int, start_line int, tag text, tag_line int, start_of_line boolean, depth int,
  label text, OUT nodes jsonb, OUT pos int, OUT line int)
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
  n int := coalesce(array_length(chars, 1), 0);
  items jsonb[] := '{}';
  c text;
  iterable boolean := tag IS NOT NULL;
  only_space boolean := true;
  sol boolean := start_of_line;
  text_start int;
  tag_start int;
  close_at int;
  command text;
  kind text;
  name text;
  shown text;
  child record;
BEGIN
  IF depth > 50 THEN
    PERFORM mail.template_error(label, start_line, 'sections are nested more than 50 deep');
  END IF;
  pos := start_pos;
  line := start_line;
  text_start := pos;
  WHILE pos <= n LOOP
    c := chars[pos];
    IF c = E'\n' THEN
      line := line + 1;
      items := mail.template_add_text(items, chars, text_start,
                                      CASE WHEN NOT iterable OR NOT only_space THEN pos ELSE pos - 1 END);
      pos := pos + 1;
      text_start := pos;
      iterable := false;
      only_space := true;
      sol := true;
      CONTINUE;
    END IF;
    IF c <> '{' OR pos = n OR chars[pos + 1] <> '{' THEN
      only_space := only_space AND (c = ' ' OR c = E'\t');
      pos := pos + 1;
      CONTINUE;
    END IF;

    tag_start := pos;
    close_at := pos + 2;
    WHILE close_at < n AND NOT (chars[close_at] = '}' AND chars[close_at + 1] = '}') LOOP
      close_at := close_at + 1;
    END LOOP;
    IF close_at >= n THEN
      PERFORM mail.template_error(label, line,
        'tag ' || left(array_to_string(chars[tag_start:n], ''), 30) || ' is not closed with }}');
    END IF;
    command := array_to_string(chars[tag_start + 2:close_at - 1], '');
    shown := '{{' || left(command, 40) || '}}';
    pos := close_at + 2;
    IF command = '' THEN
      PERFORM mail.template_error(label, line, 'empty tag {{}}');
    END IF;
    kind := left(command, 1);
    CASE
    WHEN kind IN ('#', '^') THEN
      name := mail.template_name_of(substr(command, 2), label, line, shown);
      child := mail.template_read(chars, pos, line, name, line, sol AND only_space, depth + 1, label);
      IF NOT only_space OR child.line = line THEN
        items := mail.template_add_text(items, chars, text_start, tag_start - 1);
      END IF;
      items := array_append(items, jsonb_build_object('k', kind, 'n', name, 'c', child.nodes));
      iterable := child.line <> line;
      pos := child.pos;
      line := child.line;
    WHEN kind = '/' THEN
      IF NOT sol OR NOT only_space THEN
        items := mail.template_add_text(items, chars, text_start, tag_start - 1);
      END IF;
      name := mail.template_name_of(substr(command, 2), label, line, shown);
      IF tag IS NULL THEN
        PERFORM mail.template_error(label, line, shown || ' closes a section that is not open');
      ELSIF name <> tag THEN
        PERFORM mail.template_error(label, line,
          shown || ' does not close {{#' || tag || '}} (opened on line ' || tag_line || ')');
      END IF;
      nodes := to_jsonb(items);
      RETURN;
    WHEN kind = '{' THEN
      IF pos > n OR chars[pos] <> '}' THEN
        PERFORM mail.template_error(label, line, shown || ' is not closed with }}}');
      END IF;
      pos := pos + 1;
      items := mail.template_add_text(items, chars, text_start, tag_start - 1);
      name := mail.template_name_of(substr(command, 2), label, line, '{' || shown || '}');
      items := array_append(items, jsonb_build_object('k', 'v', 'n', name, 'e', false));
    WHEN kind = '&' THEN
      items := mail.template_add_text(items, chars, text_start, tag_start - 1);
      name := mail.template_name_of(substr(command, 2), label, line, shown);
      items := array_append(items, jsonb_build_object('k', 'v', 'n', name, 'e', false));
    WHEN kind = '!' THEN
      items := mail.template_add_text(items, chars, text_start, tag_start - 1);
    WHEN kind = '>' THEN
      PERFORM mail.template_error(label, line, 'partials (' || shown || ') are not supported');
    WHEN kind = '=' THEN
      PERFORM mail.template_error(label, line, 'changing delimiters (' || shown || ') is not supported');
    WHEN kind IN ('%', '<', '$', '?') THEN
      PERFORM mail.template_error(label, line, 'tag ' || shown || ' is not supported');
    ELSE
      items := mail.template_add_text(items, chars, text_start, tag_start - 1);
      name := mail.template_name_of(command, label, line, shown);
      items := array_append(items, jsonb_build_object('k', 'v', 'n', name, 'e', true));
    END CASE;
    sol := false;
    text_start := pos;
  END LOOP;
  items := mail.template_add_text(items, chars, text_start, n);
  IF tag IS NOT NULL THEN
    PERFORM mail.template_error(label, tag_line, 'section {{#' || tag || '}} is not closed');
  END IF;
  nodes := to_jsonb(items);
END
$$;

-- Reads a whole template into nodes, or raises MA021.
CREATE OR REPLACE FUNCTION mail.template_parse(source text, label text) RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
  SELECT (mail.template_read(regexp_split_to_array(mail.template_text(source), ''), 1, 1, NULL, 0, true, 0,
                             label)).nodes
$$;

-- Looks a name up in the context stack (innermost last) as mustache.java's map handler does: a key
-- that is present stops the search even when its value is null; a dotted name's first part must be
-- present and not null, and the rest is looked up in that value only.
CREATE OR REPLACE FUNCTION mail.template_lookup(name text, scopes jsonb[]) RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
  first text;
  v jsonb;
BEGIN
  IF name = '.' THEN
    RETURN scopes[array_upper(scopes, 1)];
  END IF;
  IF strpos(name, '.') = 0 THEN
    FOR i IN REVERSE coalesce(array_upper(scopes, 1), 0)..1 LOOP
      IF jsonb_typeof(scopes[i]) = 'object' AND scopes[i] ? name THEN
        RETURN scopes[i] -> name;
      END IF;
    END LOOP;
    RETURN NULL;
  END IF;
  first := split_part(name, '.', 1);
  FOR i IN REVERSE coalesce(array_upper(scopes, 1), 0)..1 LOOP
    IF jsonb_typeof(scopes[i]) = 'object' THEN
      v := scopes[i] -> first;
      IF v IS NOT NULL AND jsonb_typeof(v) <> 'null' THEN
        RETURN mail.template_lookup(substr(name, length(first) + 2), ARRAY[v]);
      END IF;
    END IF;
  END LOOP;
  RETURN NULL;
END
$$;

-- False for a section: missing, null, false, "" and []; everything else (0 and {} too) is true.
CREATE OR REPLACE FUNCTION mail.template_truthy(v jsonb) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT v IS NOT NULL AND CASE jsonb_typeof(v)
                             WHEN 'null' THEN false
                             WHEN 'boolean' THEN v = 'true'::jsonb
                             WHEN 'string' THEN v <> '""'::jsonb
                             WHEN 'array' THEN jsonb_array_length(v) > 0
                             ELSE true END
$$;

-- mustache.java's HtmlEscaper: & < > " ' = ` and the control characters up to CR become entities.
CREATE OR REPLACE FUNCTION mail.template_escape(value text) RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
  s text := value;
BEGIN
  IF s !~ '[&<>"''=`\x01-\x0d]' THEN
    RETURN s;
  END IF;
  s := replace(s, '&', '&amp;');
  s := replace(replace(replace(replace(replace(replace(s, '<', '&lt;'), '>', '&gt;'), '"', '&quot;'),
                                       '''', '&#39;'), '=', '&#61;'), '`', '&#96;');
  FOR i IN 1..13 LOOP
    s := replace(s, chr(i), '&#' || i || ';');
  END LOOP;
  RETURN s;
END
$$;

-- Renders nodes against a context stack; html: escape {{var}} values.
CREATE OR REPLACE FUNCTION mail.template_render_nodes(nodes jsonb, scopes jsonb[], html boolean) RETURNS text
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
  node jsonb;
  v jsonb;
  item jsonb;
  s text;
  parts text[] := '{}';
BEGIN
  FOR node IN SELECT e FROM jsonb_array_elements(nodes) AS e LOOP
    CASE node ->> 'k'
    WHEN 't' THEN
      parts := array_append(parts, node ->> 's');
    WHEN 'v' THEN
      v := mail.template_lookup(node ->> 'n', scopes);
      IF v IS NOT NULL AND jsonb_typeof(v) <> 'null' THEN
        s := CASE WHEN jsonb_typeof(v) IN ('object', 'array') THEN v::text ELSE v #>> '{}' END;
        IF html AND (node -> 'e')::boolean THEN
          s := mail.template_escape(s);
        END IF;
        parts := array_append(parts, s);
      END IF;
    WHEN '#' THEN
      v := mail.template_lookup(node ->> 'n', scopes);
      IF mail.template_truthy(v) THEN
        IF jsonb_typeof(v) = 'array' THEN
          FOR item IN SELECT e FROM jsonb_array_elements(v) AS e LOOP
            parts := array_append(parts, mail.template_render_nodes(node -> 'c',
              CASE WHEN jsonb_typeof(item) = 'null' THEN scopes ELSE array_append(scopes, item) END, html));
          END LOOP;
        ELSE
          parts := array_append(parts, mail.template_render_nodes(node -> 'c', array_append(scopes, v), html));
        END IF;
      END IF;
    WHEN '^' THEN
      IF NOT mail.template_truthy(mail.template_lookup(node ->> 'n', scopes)) THEN
        parts := array_append(parts, mail.template_render_nodes(node -> 'c', scopes, html));
      END IF;
    END CASE;
  END LOOP;
  RETURN array_to_string(parts, '');
END
$$;

-- Renders a subject (never escaped; line breaks a value brings in become one space) or a body.
CREATE OR REPLACE FUNCTION mail.template_render(source text, data jsonb, part text, html boolean, label text)
RETURNS text
LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN part = 'subject' THEN regexp_replace(r, '[\r\n]+', ' ', 'g') ELSE r END
    FROM mail.template_render_nodes(mail.template_parse(source, label), ARRAY[coalesce(data, '{}')],
                                    html AND part <> 'subject') AS r
$$;

-- Refuses template_data that is not a JSON object (MA020).
CREATE OR REPLACE FUNCTION mail.check_template_data(data jsonb) RETURNS void
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
  IF data IS NOT NULL AND jsonb_typeof(data) <> 'object' THEN
    RAISE EXCEPTION 'template_data must be a JSON object, not %: %', jsonb_typeof(data), left(data::text, 60)
      USING ERRCODE = 'MA020';
  END IF;
END
$$;

-- Adds a template, or replaces the one of that name (keeping its id). Returns the id.
CREATE OR REPLACE FUNCTION mail.add_template(name text, subject text, body text, body_format text DEFAULT 'text')
RETURNS int
LANGUAGE plpgsql AS $$
#variable_conflict use_variable
DECLARE
  format text := coalesce(lower(body_format), 'text');
  template_id int;
BEGIN
  IF name IS NULL OR btrim(name) = '' THEN
    RAISE EXCEPTION 'template name is empty' USING ERRCODE = 'MA021';
  END IF;
  IF format NOT IN ('text', 'html') THEN
    RAISE EXCEPTION 'invalid body_format: % (expected text or html)', body_format USING ERRCODE = 'MA008';
  END IF;
  IF subject IS NULL OR body IS NULL THEN
    RAISE EXCEPTION 'template %: % is NULL (give '''' for an empty one)', name,
      CASE WHEN subject IS NULL THEN 'subject' ELSE 'body' END USING ERRCODE = 'MA021';
  END IF;
  IF strpos(subject, E'\n') > 0 OR strpos(subject, E'\r') > 0 THEN
    RAISE EXCEPTION 'template %: the subject has a line break', name USING ERRCODE = 'MA021';
  END IF;
  PERFORM mail.template_parse(subject, 'template ' || name || ', subject'),
          mail.template_parse(body, 'template ' || name || ', body');
  INSERT INTO mail.template AS t (name, subject, body, body_format)
  VALUES (name, subject, mail.template_text(body), format)
  ON CONFLICT ON CONSTRAINT template_name_key DO UPDATE
    SET subject = excluded.subject, body = excluded.body, body_format = excluded.body_format,
        updated_at = now(), created_by = current_user
  RETURNING t.id INTO template_id;
  RETURN template_id;
END
$$;

-- Drops a template; mail already queued from it keeps its copy. Unknown name: MA019.
CREATE OR REPLACE FUNCTION mail.drop_template(name text) RETURNS void
LANGUAGE plpgsql AS $$
#variable_conflict use_variable
BEGIN
  DELETE FROM mail.template t WHERE t.name = name;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'unknown template: %', name USING ERRCODE = 'MA019';
  END IF;
END
$$;

-- The preview: the subject and body a mail from this template and data would have. Runs as the
-- schema owner, so a sender needs EXECUTE on this function only, not on the reader's helpers.
CREATE OR REPLACE FUNCTION mail.render_template(name text, data jsonb DEFAULT NULL)
RETURNS TABLE (subject text, body text)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_variable
DECLARE
  t mail.template;
BEGIN
  SELECT * INTO t FROM mail.template x WHERE x.name = name;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'unknown template: %', name USING ERRCODE = 'MA019';
  END IF;
  PERFORM mail.check_template_data(data);
  subject := mail.template_render(t.subject, data, 'subject', false, 'template ' || name || ', subject');
  body := mail.template_render(t.body, data, 'body', t.body_format = 'html', 'template ' || name || ', body');
  RETURN NEXT;
END
$$;

-- For the BEFORE INSERT trigger on mail.outbox (as the inserting user): a mail with a template_name
-- gets a copy of the template's subject, body and format; subject and body stay NULL for the
-- dispatcher to fill with the rendered text. MA018, MA019, MA020 as documented. Runs as the schema
-- owner (it only reads mail.template and returns the row).
CREATE OR REPLACE FUNCTION mail.outbox_apply_template(m mail.outbox) RETURNS mail.outbox
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  t mail.template;
BEGIN
  IF m.template_name IS NULL THEN
    IF m.template_data IS NOT NULL THEN
      RAISE EXCEPTION 'template_data given without a template_name' USING ERRCODE = 'MA019';
    END IF;
    m.template_subject := NULL;
    m.template_body := NULL;
    RETURN m;
  END IF;
  IF m.subject IS NOT NULL OR m.body IS NOT NULL THEN
    RAISE EXCEPTION 'template % gives the subject and body: do not pass % as well', m.template_name,
      CASE WHEN m.subject IS NOT NULL AND m.body IS NOT NULL THEN 'subject and body'
           WHEN m.subject IS NOT NULL THEN 'subject' ELSE 'body' END
      USING ERRCODE = 'MA018';
  END IF;
  SELECT * INTO t FROM mail.template x WHERE x.name = m.template_name;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'unknown template: %', m.template_name USING ERRCODE = 'MA019';
  END IF;
  PERFORM mail.check_template_data(m.template_data);
  m.template_subject := t.subject;
  m.template_body := t.body;
  m.template_data := coalesce(m.template_data, '{}');
  m.body_format := t.body_format;
  RETURN m;
END
$$;
