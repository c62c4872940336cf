-- mail.send_query_results: runs a query as the caller and sends its result as a CSV attachment.

-- One CSV field (RFC 4180): NULL is empty, anything with a quote, separator, line break or edge space is quoted.
CREATE OR REPLACE FUNCTION mail.csv_field(value text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE
           WHEN value IS NULL THEN ''
           WHEN value = '' OR value ~ '[",\r\n]' OR value ~ '^\s|\s$'
             THEN '"' || replace(value, '"', '""') || '"'
           ELSE value
         END
$$;

-- Runs query with the caller's privileges (like sp_send_dbmail's @query, at call time) and enqueues a
-- mail with the result attached as CSV: a header row, then one row per result row, CRLF line ends.
-- Values are rendered as in JSON (timestamps in ISO 8601, bytea as \x hex). A failing query raises its
-- own error and enqueues nothing.
CREATE OR REPLACE FUNCTION mail.send_query_results(
  recipients text,
  query text,
  subject text DEFAULT NULL,
  body text DEFAULT NULL,
  attachment_filename text DEFAULT 'result.csv',
  profile_name text DEFAULT NULL
) RETURNS bigint
LANGUAGE plpgsql SECURITY INVOKER AS $$
DECLARE
  rows json;
  csv text;
BEGIN
  IF query IS NULL OR btrim(query) = '' THEN
    RAISE EXCEPTION 'query is empty' USING ERRCODE = '22023';
  END IF;
  -- The left join yields one all-NULL row (row number NULL) for an empty result, so the header is known.
  EXECUTE format(
    'SELECT json_agg(row_to_json(t)) FROM (SELECT q.* FROM (SELECT) AS one LEFT JOIN '
    || '(SELECT q0.*, row_number() OVER () AS "postroom row number" FROM (%s) AS q0) AS q ON true) AS t',
    query)
  INTO rows;

  SELECT string_agg(line, E'\r\n' ORDER BY n) || E'\r\n' INTO csv
    FROM (
      SELECT 0 AS n, string_agg(mail.csv_field(f.key), ',' ORDER BY f.ord) AS line
        FROM json_each_text(rows -> 0) WITH ORDINALITY AS f (key, value, ord)
       WHERE f.key <> 'postroom row number'
      UNION ALL
      SELECT r.n, string_agg(mail.csv_field(f.value), ',' ORDER BY f.ord)
        FROM json_array_elements(rows) WITH ORDINALITY AS r (row, n)
        CROSS JOIN LATERAL json_each_text(r.row) WITH ORDINALITY AS f (key, value, ord)
       WHERE f.key <> 'postroom row number' AND r.row ->> 'postroom row number' IS NOT NULL
       GROUP BY r.n
    ) lines;

  RETURN mail.send(
    recipients => recipients,
    subject => subject,
    body => body,
    profile_name => profile_name,
    attachments => ARRAY[ROW(coalesce(attachment_filename, 'result.csv'), 'text/csv; charset=utf-8',
                             -- a UTF-8 byte order mark first: spreadsheet programs (Excel) read
                             -- the file as UTF-8 only with it
                             '\xefbbbf'::bytea || convert_to(coalesce(csv, ''), 'UTF8'))::mail.attachment_in]);
END
$$;
