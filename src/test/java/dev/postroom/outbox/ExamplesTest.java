package dev.postroom.outbox;

import static org.assertj.core.api.Assertions.assertThat;

import dev.postroom.testing.TestDatabase;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The scripts in sql/examples run, in order, against a freshly migrated database. */
class ExamplesTest {
  @RegisterExtension static final TestDatabase db = new TestDatabase();

  @Test
  void everyExampleScriptRunsInOrder() throws IOException, SQLException {
    List<Path> scripts;
    try (Stream<Path> files = Files.list(Path.of("sql", "examples"))) {
      scripts = files.filter(p -> p.toString().endsWith(".sql")).sorted().toList();
    }
    assertThat(scripts).hasSizeGreaterThanOrEqualTo(6);
    try (Connection c = db.connect();
        Statement st = c.createStatement()) {
      for (Path script : scripts) {
        st.execute(Files.readString(script));
      }
    }
    assertThat(
            Sql.one(
                db.dataSource(),
                "SELECT count(*) FROM mail.outbox WHERE idempotency_key = 'order-1001-confirmation'"))
        .isEqualTo(1L);
    assertThat(
            Sql.one(
                db.dataSource(), "SELECT count(*) FROM mail.attachment WHERE content_id = 'logo'"))
        .isEqualTo(1L);
    assertThat(
            Sql.one(
                db.dataSource(), "SELECT created_by FROM mail.outbox WHERE subject = 'Welcome'"))
        .isEqualTo("example_app");
    // 06_templates.sql: an invoice from a template, and one alert for a job that failed twice.
    assertThat(
            Sql.rows(
                db.dataSource(),
                "SELECT template_name, template_data->>'total' AS total, body_format,"
                    + " coalesce(subject, 'not rendered yet') AS subject"
                    + " FROM mail.outbox WHERE idempotency_key = 'invoice-42'"))
        .containsExactly(
            java.util.Map.of(
                "template_name",
                "invoice",
                "total",
                "5.50",
                "body_format",
                "html",
                "subject",
                "not rendered yet"));
    assertThat(
            Sql.rows(
                db.dataSource(),
                "SELECT template_data->>'attempt' AS attempt, importance FROM mail.outbox"
                    + " WHERE template_name = 'job_failed'"))
        .as("the retried job's second failure does not alert again")
        .containsExactly(java.util.Map.of("attempt", "1", "importance", "high"));
  }
}
