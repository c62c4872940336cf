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
    assertThat(scripts).hasSizeGreaterThanOrEqualTo(5);
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
  }
}
