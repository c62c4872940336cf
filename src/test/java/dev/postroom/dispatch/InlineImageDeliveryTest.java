package dev.postroom.dispatch;

import static org.assertj.core.api.Assertions.assertThat;

import dev.postroom.smtp.testserver.ScriptedSmtpServer;
import dev.postroom.testing.ManualClock;
import dev.postroom.testing.TestDatabase;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.time.Instant;
import java.util.List;
import org.apache.james.mime4j.dom.BinaryBody;
import org.apache.james.mime4j.dom.Entity;
import org.apache.james.mime4j.dom.Message;
import org.apache.james.mime4j.dom.Multipart;
import org.apache.james.mime4j.dom.TextBody;
import org.apache.james.mime4j.message.DefaultMessageBuilder;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * mail.attach(..., content_id) end to end: the dispatcher sends an HTML body that refers to {@code
 * cid:logo} as multipart/related with the image inline under {@code Content-ID: <logo>}, read back
 * from the wire with mime4j.
 */
class InlineImageDeliveryTest {
  @RegisterExtension static final TestDatabase db = new TestDatabase();
  private static final byte[] PNG = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 1, 2};

  private final MailFixture mail = new MailFixture(db);
  private ScriptedSmtpServer server;

  @BeforeEach
  void setUp() throws Exception {
    mail.reset();
    server = new ScriptedSmtpServer();
    mail.relay("main", "relay", server.port(), 1);
  }

  @AfterEach
  void tearDown() throws Exception {
    server.close();
    server.assertNoViolations();
  }

  @Test
  void anAttachmentWithAContentIdIsAnInlinePartOfMultipartRelated() throws Exception {
    long id =
        db.jdbi()
            .inTransaction(h -> {
              long mailId =
                  h.createQuery(
                          "SELECT mail.send(recipients => 'ann@example.com', subject => 'Logo',"
                              + " body => '<p>Our logo: <img src=\"cid:logo\"></p>',"
                              + " body_format => 'html')")
                      .mapTo(Long.class)
                      .one();
              h.createQuery(
                      "SELECT mail.attach(:id, 'logo.png', 'image/png', :png, content_id => 'logo')")
                  .bind("id", mailId)
                  .bind("png", PNG)
                  .mapTo(Long.class)
                  .one();
              return mailId;
            });
    ManualClock clock = new ManualClock(Instant.now().plusSeconds(1));
    try (Dispatcher d = mail.dispatcher("d1", clock)) {
      d.runUntilIdle();
    }

    assertThat(mail.recipients(id))
        .extracting(MailFixture.Rcpt::status)
        .containsExactly("delivered");
    List<byte[]> messages = server.session().messages();
    assertThat(messages).hasSize(1);
    Message parsed =
        new DefaultMessageBuilder().parseMessage(new ByteArrayInputStream(messages.get(0)));
    assertThat(parsed.getMimeType()).isEqualTo("multipart/related");
    List<Entity> parts = ((Multipart) parsed.getBody()).getBodyParts();
    Entity html = findHtml(parts.get(0));
    assertThat(text(html)).contains("src=\"cid:logo\"");
    Entity image = parts.get(parts.size() - 1);
    assertThat(image.getMimeType()).isEqualTo("image/png");
    assertThat(image.getHeader().getField("Content-ID").getBody()).isEqualTo("<logo>");
    assertThat(image.getDispositionType()).isEqualTo("inline");
    assertThat(image.getFilename()).isEqualTo("logo.png");
    assertThat(bytes(image)).isEqualTo(PNG);
  }

  private static Entity findHtml(Entity e) {
    if (e.getBody() instanceof Multipart m) {
      for (Entity p : m.getBodyParts()) {
        Entity found = findHtml(p);
        if (found != null) {
          return found;
        }
      }
      return null;
    }
    return "text/html".equals(e.getMimeType()) ? e : null;
  }

  private static String text(Entity e) throws Exception {
    try (var r = ((TextBody) e.getBody()).getReader()) {
      StringBuilder sb = new StringBuilder();
      char[] buf = new char[4096];
      for (int n; (n = r.read(buf)) > 0; ) {
        sb.append(buf, 0, n);
      }
      return sb.toString();
    }
  }

  private static byte[] bytes(Entity e) throws Exception {
    try (InputStream in = ((BinaryBody) e.getBody()).getInputStream()) {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      in.transferTo(out);
      return out.toByteArray();
    }
  }
}
