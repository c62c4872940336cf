package dev.postroom.outbox;

import static org.assertj.core.api.Assertions.assertThat;

import dev.postroom.testing.TestDatabase;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.SQLException;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Every privilege mail_sender holds in schema mail, read from the catalog, is exactly the list in
 * docs/sql-api.md: a new grant cannot widen what a sender may do without the documentation saying
 * so.
 */
class PrivilegeListTest {
  @RegisterExtension static final TestDatabase db = new TestDatabase();

  /** Privileges granted to a role (by oid) on the schema and everything in it, one line each. */
  static final String PRIVILEGES =
      """
      SELECT x.object || ': ' || x.privilege AS line FROM (
        SELECT 'schema ' || n.nspname AS object, a.privilege_type AS privilege
          FROM pg_namespace n, aclexplode(n.nspacl) a WHERE n.nspname = 'mail' AND a.grantee = ?1
        UNION ALL
        SELECT CASE c.relkind WHEN 'S' THEN 'sequence ' WHEN 'v' THEN 'view ' ELSE 'table ' END
               || c.oid::regclass::text, a.privilege_type
          FROM pg_class c, aclexplode(c.relacl) a
         WHERE c.relnamespace = 'mail'::regnamespace AND a.grantee = ?1
        UNION ALL
        SELECT 'column ' || c.oid::regclass::text || '.' || t.attname, a.privilege_type
          FROM pg_class c JOIN pg_attribute t ON t.attrelid = c.oid, aclexplode(t.attacl) a
         WHERE c.relnamespace = 'mail'::regnamespace AND a.grantee = ?1
        UNION ALL
        SELECT 'function ' || p.oid::regprocedure::text, a.privilege_type
          FROM pg_proc p, aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a
         WHERE p.pronamespace = 'mail'::regnamespace AND a.grantee = ?1
        UNION ALL
        SELECT 'type ' || format_type(ty.oid, NULL), a.privilege_type
          FROM pg_type ty, aclexplode(ty.typacl) a
         WHERE ty.typnamespace = 'mail'::regnamespace AND a.grantee = ?1) x
       ORDER BY 1
      """;

  @Test
  void mailSenderHoldsExactlyTheDocumentedPrivileges() throws Exception {
    List<String> granted = lines(db, "(SELECT oid FROM pg_roles WHERE rolname = 'mail_sender')");
    assertThat(granted)
        .as(
            "mail_sender's privileges in the catalog differ from the list in docs/sql-api.md"
                + " (section 'Exactly what mail_sender holds'); if the change is intended, update"
                + " that list in the same commit")
        .containsExactlyInAnyOrderElementsOf(documented());
  }

  @Test
  void publicHoldsNothingButTheDefaultTypeUsage() throws Exception {
    assertThat(lines(db, "0"))
        .as("PUBLIC's privileges in schema mail")
        .allMatch(line -> line.startsWith("type ") && line.endsWith(": USAGE"));
  }

  @Test
  void mailSenderInheritsNoOtherRole() throws SQLException {
    assertThat(
            Sql.rows(
                db.dataSource(),
                "SELECT g.rolname FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid"
                    + " WHERE m.member = (SELECT oid FROM pg_roles WHERE rolname = 'mail_sender')"))
        .isEmpty();
    assertThat(
            Sql.rows(
                db.dataSource(),
                "SELECT rolname FROM pg_roles WHERE rolname = 'mail_sender'"
                    + " AND (rolsuper OR rolcreaterole OR rolcreatedb OR rolbypassrls OR rolcanlogin)"))
        .isEmpty();
  }

  static List<String> lines(TestDatabase db, String grantee) throws SQLException {
    return Sql.rows(db.dataSource(), PRIVILEGES.replace("?1", grantee)).stream()
        .map(r -> (String) r.get("line"))
        .toList();
  }

  static List<String> documented() throws IOException {
    String doc = Files.readString(Path.of("docs/sql-api.md"));
    String begin = "<!-- mail_sender privileges: begin -->";
    int from = doc.indexOf(begin);
    int to = doc.indexOf("<!-- mail_sender privileges: end -->");
    assertThat(from).as("the privilege list's begin marker in docs/sql-api.md").isPositive();
    String block = doc.substring(from + begin.length(), to);
    return Arrays.stream(block.split("\n"))
        .map(String::strip)
        .filter(l -> !l.isEmpty() && !l.startsWith("```"))
        .toList();
  }
}
