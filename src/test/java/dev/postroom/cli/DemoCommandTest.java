package dev.postroom.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.postroom.testing.TestDatabase;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

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
}
