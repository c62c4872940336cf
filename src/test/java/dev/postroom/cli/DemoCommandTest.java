package dev.postroom.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.postroom.embedded.EmbeddedPostgres;
import dev.postroom.testing.TestDatabase;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

class DemoCommandTest {
  @RegisterExtension static final TestDatabase db = new TestDatabase();

  @Test
  void theDemoDeliversRejectsAndDefersAndPrintsTheOutcomeTable() {
    Cli.Result result = Cli.run("demo", "--db", db.url(), "--database", db.name());

    assertThat(result.code()).as(result.out() + result.err()).isZero();
    assertThat(result.out())
        .contains("Database postgres@")
        .contains("(reused)")
        .containsPattern("Welcome to Postroom +sent +to: ann@example.com +delivered +250")
        .containsPattern("Invoice 42 +sent +to: bob@example.org +delivered")
        .containsPattern("bcc: erin@example.net +delivered")
        .containsPattern(
            "partially_sent +to: nobody@example.com +failed +550 5.1.1 <nobody@example.com>")
        .containsPattern("retrying +to: greylisted@example.net +deferred +451 4.7.1")
        .contains("The capture server received 4 message(s) for 7 recipient(s).")
        .contains("SELECT * FROM mail.queue_status;");
    assertThat(result.err()).isEmpty();
    List<String> statuses =
        Cli.rows(db, "SELECT status::text FROM mail.outbox ORDER BY id", String.class);
    assertThat(statuses).containsExactly("sent", "sent", "sent", "partially_sent", "retrying");
  }

  @Test
  void withoutAReachableServerItExplainsInOneParagraphHowToPointAtOne() throws Exception {
    int closed = CommandLineTest.closedPort();

    Cli.Result result =
        Cli.run("demo", "--db", "jdbc:postgresql://127.0.0.1:" + closed + "/postgres?user=root");

    assertThat(result.code()).isEqualTo(Main.FAILURE);
    assertThat(result.err().strip().lines()).hasSize(1);
    assertThat(result.err())
        .contains("root@127.0.0.1:" + closed + "/postroom_demo")
        .contains("--db 'jdbc:postgresql://")
        .contains("POSTROOM_DB_URL")
        .contains("PGHOST, PGPORT, PGUSER and PGPASSWORD");
  }

  @Test
  void withEmbeddedItRunsOnAServerOfItsOwnAndASecondRunReusesItsData(@TempDir Path dir) {
    Cli.Result first = Cli.run("demo", "--embedded", "--embedded-dir", dir.toString());

    assertThat(first.code()).as(first.out() + first.err()).isZero();
    assertThat(first.out())
        .contains("--embedded: starting an embedded PostgreSQL with its data in " + dir)
        .containsPattern(
            "Embedded PostgreSQL listening on 127\\.0\\.0\\.1:\\d+; while it runs,"
                + " connect with: psql \"host=127\\.0\\.0\\.1 port=\\d+ dbname=postroom_demo user=postgres\"")
        .contains("(created)")
        .containsPattern("Welcome to Postroom +sent +to: ann@example.com +delivered +250")
        .containsPattern(
            "partially_sent +to: nobody@example.com +failed +550 5.1.1 <nobody@example.com>")
        .contains("The capture server received 4 message(s) for 7 recipient(s).")
        .contains("Stopped the embedded PostgreSQL");
    assertThat(Files.isRegularFile(dir.resolve("data/postgresql.conf"))).isTrue();
    assertThat(EmbeddedPostgres.listening("127.0.0.1", port(first.out()))).isFalse();

    Cli.Result second = Cli.run("demo", "--embedded", "--embedded-dir", dir.toString());

    assertThat(second.code()).as(second.out() + second.err()).isZero();
    assertThat(second.out())
        .contains("(reused)")
        .containsPattern("Welcome to Postroom +sent +to: ann@example.com +delivered +250");
  }

  @Test
  void embeddedAndAnExplicitServerExcludeEachOther() {
    Cli.Result result = Cli.run("demo", "--embedded", "--db", db.url());

    assertThat(result.code()).isEqualTo(Main.USAGE);
    assertThat(result.err()).contains("--embedded and --db exclude each other");
  }

  private static int port(String out) {
    Matcher m = Pattern.compile("listening on 127\\.0\\.0\\.1:(\\d+)").matcher(out);
    assertThat(m.find()).as(out).isTrue();
    return Integer.parseInt(m.group(1));
  }
}
