package dev.postroom.dispatch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.postroom.testing.TestDatabase;
import java.io.File;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Memory stays bounded whatever the attachment sizes (issue 12 finding 3): a dispatcher process
 * with a 160 MB heap delivers eight mails of 12 MB each, and a small mail of another sender in the
 * same queue goes through as well.
 */
class LargeAttachmentProcessTest {
  @RegisterExtension static final TestDatabase db = new TestDatabase();

  private static final int MEGABYTES = 12;
  private static final String BIG_SENDER = "postroom_core_big_sender";
  private static final String SMALL_SENDER = "postroom_core_small_sender";

  private final MailFixture mail = new MailFixture(db);
  private RecordingSmtpServer smtp;
  private Process child;

  @BeforeEach
  void setUp() throws Exception {
    mail.reset();
    smtp = RecordingSmtpServer.start();
    mail.relay("main", "relay", smtp.port(), 1);
    mail.jdbi.useHandle(h -> {
      for (String role : List.of(BIG_SENDER, SMALL_SENDER)) {
        h.execute(
            "DO $$ BEGIN CREATE ROLE "
                + role
                + " NOLOGIN; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;"
                + " END $$");
        h.execute("GRANT mail_sender TO " + role);
      }
    });
  }

  @AfterEach
  void tearDown() throws Exception {
    if (child != null) {
      child.destroyForcibly().waitFor();
    }
    smtp.close();
  }

  private long sendAs(String role, String to, int attachmentMegabytes) {
    return mail.jdbi.inTransaction(h -> {
      h.execute("SET LOCAL ROLE " + role);
      long id =
          h.createQuery("SELECT mail.send(recipients => :to, subject => 'Big', body => 'See file')")
              .bind("to", to)
              .mapTo(Long.class)
              .one();
      if (attachmentMegabytes > 0) {
        // md5 output does not compress: the attachment takes its full size in the database
        h.createQuery(
                "SELECT mail.attach(:id, 'data.bin', 'application/octet-stream',"
                    + " (SELECT decode(string_agg(md5(g::text), ''), 'hex')"
                    + "    FROM generate_series(1, :blocks) g))")
            .bind("id", id)
            .bind("blocks", attachmentMegabytes * 65536)
            .mapTo(Long.class)
            .one();
      }
      return id;
    });
  }

  @Test
  void eightMailsOf12MegabytesAreDeliveredWithA160MegabyteHeapAndASmallMailGoesThrough()
      throws Exception {
    List<Long> big = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      big.add(sendAs(BIG_SENDER, "big" + i + "@example.com", MEGABYTES));
    }
    long small = sendAs(SMALL_SENDER, "small@example.com", 0);
    File log = new File("target/dispatcher-large-attachments.log");
    child =
        new ProcessBuilder(
                ProcessHandle.current().info().command().orElse("java"),
                "-Xmx160m",
                "-cp",
                System.getProperty("java.class.path"),
                DispatcherProcess.class.getName(),
                db.url(),
                "bounded",
                "16")
            .redirectErrorStream(true)
            .redirectOutput(log)
            .start();

    await()
        .atMost(Duration.ofMinutes(3))
        .pollInterval(Duration.ofMillis(500))
        .until(() -> mail.statusCounts().getOrDefault("sent", 0L) == 9 || !child.isAlive());

    assertThat(child.isAlive()).as("the dispatcher survived").isTrue();
    assertThat(Files.readString(log.toPath())).doesNotContain("OutOfMemoryError");
    assertThat(mail.mail(small).status()).isEqualTo("sent");
    for (long id : big) {
      assertThat(mail.mail(id).status()).isEqualTo("sent");
      assertThat(mail.mail(id).attempts()).isEqualTo(1);
    }
    assertThat(smtp.received())
        .filteredOn(r -> r.recipients().get(0).startsWith("big"))
        .hasSize(8)
        .allSatisfy(r -> assertThat(r.data().length()).isGreaterThan(MEGABYTES * 1_300_000));
  }
}
