package dev.postroom.outbox;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.postroom.testing.TestDatabase;
import java.nio.charset.StandardCharsets;
import java.sql.SQLException;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.postgresql.util.PSQLException;

class QueryResultsTest {
  @RegisterExtension static final TestDatabase db = new TestDatabase();

  @BeforeAll
  static void data() throws SQLException {
    Sql.createDefaultProfile(db.dataSource());
    Sql.exec(
        db.dataSource(),
        "CREATE TABLE public.customer (id int, name text, city text, note text)",
        "INSERT INTO public.customer VALUES"
            + " (1, 'Smith, Anna', 'Paris', NULL),"
            + " (2, 'Bob \"The Builder\"', 'Oslo', ''),"
            + " (3, 'Zoë', 'Köln', E'two\\nlines')");
  }

  @Test
  void theResultIsAttachedAsCsvWithAHeaderQuotingAndNulls() throws SQLException {
    long id =
        ((Number)
                Sql.one(
                    db.dataSource(),
                    "SELECT mail.send_query_results('ops@example.com',"
                        + " 'SELECT id, name, city, note FROM public.customer ORDER BY id',"
                        + " subject => 'Customers', attachment_filename => 'customers.csv')"))
            .longValue();
    Map<String, Object> file =
        Sql.rows(
                db.dataSource(),
                "SELECT filename, content_type, content FROM mail.attachment WHERE mail_id = ?",
                id)
            .get(0);
    assertThat(file)
        .containsEntry("filename", "customers.csv")
        .containsEntry("content_type", "text/csv; charset=utf-8");
    assertThat(new String((byte[]) file.get("content"), StandardCharsets.UTF_8))
        .as("a byte order mark, then the CSV")
        .isEqualTo(
            "\uFEFFid,name,city,note\r\n"
                + "1,\"Smith, Anna\",Paris,\r\n"
                + "2,\"Bob \"\"The Builder\"\"\",Oslo,\"\"\r\n"
                + "3,Zoë,Köln,\"two\nlines\"\r\n");
    assertThat(Sql.one(db.dataSource(), "SELECT subject FROM mail.outbox WHERE id = ?", id))
        .isEqualTo("Customers");
  }

  @Test
  void anEmptyResultStillHasItsHeaderRow() throws SQLException {
    long id =
        ((Number)
                Sql.one(
                    db.dataSource(),
                    "SELECT mail.send_query_results('ops@example.com',"
                        + " 'SELECT id, name FROM public.customer WHERE false')"))
            .longValue();
    byte[] csv =
        (byte[])
            Sql.one(db.dataSource(), "SELECT content FROM mail.attachment WHERE mail_id = ?", id);
    assertThat(csv).startsWith(0xEF, 0xBB, 0xBF);
    assertThat(new String(csv, StandardCharsets.UTF_8)).isEqualTo("\uFEFFid,name\r\n");
  }

  @Test
  void aBadQueryFailsWithItsOwnErrorAndEnqueuesNothing() throws SQLException {
    List<Long> before = Sql.footprint(db.dataSource());
    for (String[] bad :
        List.of(
            new String[] {"SELECT * FROM public.no_such_table", "42P01"},
            new String[] {"SELEC 1", "42601"},
            new String[] {"SELECT 1; DROP TABLE public.customer", "42601"},
            new String[] {"SELECT 1 / 0", "22012"})) {
      assertThatThrownBy(() ->
              Sql.exec(
                  db.dataSource(),
                  "SELECT mail.send_query_results('ops@example.com', '"
                      + bad[0].replace("'", "''")
                      + "')"))
          .as(bad[0])
          .isInstanceOfSatisfying(
              PSQLException.class, e -> assertThat(e.getSQLState()).isEqualTo(bad[1]));
    }
    assertThat(Sql.footprint(db.dataSource())).isEqualTo(before);
    assertThat(Sql.count(db.dataSource(), "public.customer")).isEqualTo(3);
  }
}
