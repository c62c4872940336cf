package dev.postroom.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.postroom.testing.TestDatabase;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** migrate, account add/list, send and status against a real database. */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class OutboxCommandsTest {
  @RegisterExtension static final TestDatabase db = new TestDatabase();

  private static Cli.Result run(String... args) {
    String[] withDb = new String[args.length + 2];
    System.arraycopy(args, 0, withDb, 0, args.length);
    withDb[args.length] = "--db";
    withDb[args.length + 1] = db.url();
    return Cli.run(withDb);
  }

  @Test
  @Order(1)
  void migrateOnAMigratedDatabaseChangesNothingAndSucceeds() {
    Cli.Result result = run("migrate");

    assertThat(result.code()).as(result.err()).isZero();
    assertThat(result.out())
        .contains("/" + db.name() + ": schema at version")
        .contains("(0 migrations applied)");
  }

  @Test
  @Order(2)
  void accountAddCreatesTheAccountAndItsProfileAndListShowsThemWithoutThePassword() {
    Cli.Result added =
        run(
            "account",
            "add",
            "relay",
            "--host",
            "smtp.example.com",
            "--port",
            "2525",
            "--tls",
            "starttls",
            "--username",
            "ann",
            "--password",
            "hunter2",
            "--from",
            "noreply@example.com",
            "--profile",
            "main",
            "--default-profile");

    assertThat(added.code()).as(added.err()).isZero();
    assertThat(added.out()).startsWith("account relay added (id ").contains("in profile main");

    Cli.Result listed = run("account", "list");
    assertThat(listed.code()).isZero();
    assertThat(listed.out())
        .contains("relay", "smtp.example.com", "2525", "starttls", "noreply@example.com")
        .contains("main (default) #1")
        .doesNotContain("hunter2");
    String stored =
        db.jdbi()
            .withHandle(h ->
                h.select("SELECT password FROM mail.account WHERE name = 'relay'")
                    .mapTo(String.class)
                    .one());
    assertThat(stored).isEqualTo("hunter2");
  }

  @Test
  @Order(3)
  void aRefusedAccountIsAnOperationalFailureWithTheServersMessage() {
    Cli.Result result = run("account", "add", "broken", "--tls", "sometimes", "--host", "h");

    assertThat(result.code()).isEqualTo(Main.FAILURE);
    assertThat(result.err().strip())
        .startsWith("postroom: invalid tls for account broken: sometimes")
        .endsWith("(SQLSTATE MA016)");
  }

  @Test
  @Order(4)
  void sendEnqueuesThroughMailSendAndPrintsTheId(@TempDir Path dir) throws Exception {
    Path body = dir.resolve("body.html");
    Files.writeString(body, "<p>Hello <b>Ann</b></p>");
    Path report = dir.resolve("report.csv");
    Files.writeString(report, "a,b\n1,2\n");

    Cli.Result result =
        run(
            "send",
            "--to",
            "Ann <ann@example.com>",
            "--to",
            "bob@example.org",
            "--cc",
            "carol@example.com",
            "--bcc",
            "dave@example.net",
            "--subject",
            "Quarterly report",
            "--body-file",
            body.toString(),
            "--html",
            "--attach",
            report.toString(),
            "--importance",
            "high");

    assertThat(result.code()).as(result.err()).isZero();
    long id = Long.parseLong(result.out().strip());
    Map<String, Object> mail =
        db.jdbi()
            .withHandle(h ->
                h.select(
                        "SELECT subject, body, body_format, importance FROM mail.outbox WHERE id = ?",
                        id)
                    .mapToMap()
                    .one());
    assertThat(mail)
        .containsEntry("subject", "Quarterly report")
        .containsEntry("body", "<p>Hello <b>Ann</b></p>")
        .containsEntry("body_format", "html")
        .containsEntry("importance", "high");
    List<String> recipients =
        db.jdbi()
            .withHandle(h ->
                h.select(
                        "SELECT kind || ':' || address FROM mail.recipient WHERE mail_id = ? ORDER BY id",
                        id)
                    .mapTo(String.class)
                    .list());
    assertThat(recipients)
        .containsExactly(
            "to:ann@example.com",
            "to:bob@example.org",
            "cc:carol@example.com",
            "bcc:dave@example.net");
    byte[] attached =
        db.jdbi()
            .withHandle(h ->
                h.select(
                        "SELECT content FROM mail.attachment WHERE mail_id = ? AND filename = 'report.csv'",
                        id)
                    .mapTo(byte[].class)
                    .one());
    assertThat(new String(attached, StandardCharsets.UTF_8)).isEqualTo("a,b\n1,2\n");
  }

  @Test
  @Order(5)
  void sendWithAnInvalidAddressFailsWithTheDatabasesMessageAndWritesNothing() {
    long before = count();

    Cli.Result result = run("send", "--to", "not an address", "--body", "x");

    assertThat(result.code()).isEqualTo(Main.FAILURE);
    assertThat(result.err().lines()).hasSize(1);
    assertThat(result.err()).contains("not an address").contains("SQLSTATE");
    assertThat(count()).isEqualTo(before);
  }

  @Test
  @Order(6)
  void statusSummarisesTheQueue() {
    Cli.Result result = run("status");

    assertThat(result.code()).as(result.err()).isZero();
    assertThat(result.out())
        .contains("Queue (mail.queue_status):")
        .containsPattern("queued +1")
        .contains("Failed recipients in the last hour: 0")
        .contains("Deferred recipients waiting for a retry: 0");
  }

  @Test
  @Order(7)
  void statusOfOneMailShowsEachRecipient() {
    long id =
        db.jdbi()
            .withHandle(h -> h.select("SELECT max(id) FROM mail.outbox").mapTo(Long.class).one());

    Cli.Result result = run("status", String.valueOf(id));

    assertThat(result.code()).as(result.err()).isZero();
    assertThat(result.out())
        .startsWith("Mail " + id + ": queued")
        .contains("Quarterly report")
        .containsPattern("to +ann@example.com +pending")
        .containsPattern("bcc +dave@example.net +pending");
  }

  @Test
  @Order(8)
  void statusOfAnUnknownMailIsAnOperationalFailure() {
    Cli.Result result = run("status", "987654321");

    assertThat(result.code()).isEqualTo(Main.FAILURE);
    assertThat(result.err().strip()).isEqualTo("postroom: no mail with id 987654321");
  }

  private static long count() {
    return db.jdbi()
        .withHandle(h -> h.select("SELECT count(*) FROM mail.outbox").mapTo(Long.class).one());
  }

  @Test
  @Order(9)
  void statusShowsDeferredRecipientsGroupedByTheReplyThatDeferredThem() {
    db.jdbi()
        .useHandle(h -> {
          h.execute(
              "UPDATE mail.outbox SET status = 'retrying', next_attempt_at = now() + interval '5"
                  + " minutes' WHERE status = 'queued'");
          h.execute(
              "UPDATE mail.recipient SET status = 'deferred', reply_code = 535, enhanced_code ="
                  + " '5.7.8', reply_text = 'Authentication credentials invalid', remote_host ="
                  + " 'smtp.example.com [192.0.2.25]:587' WHERE status = 'pending'");
        });
    long deferred =
        db.jdbi()
            .withHandle(h ->
                h.select("SELECT count(*) FROM mail.recipient WHERE status = 'deferred'")
                    .mapTo(Long.class)
                    .one());

    Cli.Result result = run("status");

    assertThat(result.code()).as(result.err()).isZero();
    assertThat(deferred).isPositive();
    assertThat(result.out())
        .contains("Deferred recipients waiting for a retry: " + deferred)
        .containsPattern(
            deferred
                + " +535 +5\\.7\\.8 +Authentication credentials invalid +smtp\\.example\\.com");
  }
}
