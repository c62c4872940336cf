package dev.postroom.dispatch;

import static org.assertj.core.api.Assertions.assertThat;

import dev.postroom.testing.ManualClock;
import dev.postroom.testing.TestDatabase;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.Reader;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.james.mime4j.dom.Entity;
import org.apache.james.mime4j.dom.Message;
import org.apache.james.mime4j.dom.Multipart;
import org.apache.james.mime4j.dom.TextBody;
import org.apache.james.mime4j.message.DefaultMessageBuilder;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Mail sent from a template through the dispatcher, read back with mime4j. */
class TemplateDeliveryTest {
  @RegisterExtension static final TestDatabase db = new TestDatabase();

  private final MailFixture mail = new MailFixture(db);
  private RecordingSmtpServer smtp;
  private ManualClock clock;

  @BeforeEach
  void setUp() throws IOException {
    mail.reset();
    db.jdbi().useHandle(h -> h.execute("DELETE FROM mail.template"));
    smtp = RecordingSmtpServer.start();
    mail.relay("main", "relay", smtp.port(), 1);
    clock = new ManualClock(Instant.now().plusSeconds(1));
  }

  @AfterEach
  void tearDown() throws IOException {
    smtp.close();
  }

  private void drain() throws InterruptedException {
    clock.catchUp(Duration.ofSeconds(1));
    try (Dispatcher d = mail.dispatcher("tmpl", clock)) {
      d.runUntilIdle();
    }
  }

  private void sql(String statement, Object... args) {
    db.jdbi().useHandle(h -> h.execute(statement, args));
  }

  private long send(String recipient, String template, String data) {
    return db.jdbi()
        .withHandle(h ->
            h.createQuery(
                    "SELECT mail.send(:r, template_name => :t, template_data => CAST(:d AS jsonb))")
                .bind("r", recipient)
                .bind("t", template)
                .bind("d", data)
                .mapTo(Long.class)
                .one());
  }

  private Map<String, Object> row(long id) {
    return db.jdbi()
        .withHandle(h ->
            h.createQuery(
                    "SELECT status::text AS status, subject, body, last_reply_code,"
                        + " last_reply_text FROM mail.outbox WHERE id = :id")
                .bind("id", id)
                .mapToMap()
                .one());
  }

  @Test
  void anHtmlTemplateIsRenderedEscapedStoredAndReadableByAnIndependentParser() throws Exception {
    sql(
        "SELECT mail.add_template('invoice', 'Rechnung {{number}} für {{customer.name}} ✉',"
            + " E'<p>Dear {{customer.name}},</p>\\n<ul>\\n{{#lines}}\\n  <li>{{item}}: {{amount}} EUR</li>\\n"
            + "{{/lines}}\\n</ul>\\n{{^paid}}<p>Please pay.</p>{{/paid}}\\n{{{signature}}}\\n', 'html')");
    String data =
        "{\"number\": 42, \"customer\": {\"name\": \"Zoë <script>x</script> & Co\"},"
            + " \"lines\": [{\"item\": \"Tea\", \"amount\": 1.50}, {\"item\": \"Café ☕\", \"amount\": 2}],"
            + " \"paid\": false, \"signature\": \"<p><b>Accounts</b></p>\"}";
    long id = send("ann@example.com", "invoice", data);

    drain();

    Map<String, Object> row = row(id);
    Map<String, Object> preview =
        db.jdbi()
            .withHandle(h ->
                h.createQuery(
                        "SELECT subject, body FROM mail.render_template('invoice', CAST(:d AS jsonb))")
                    .bind("d", data)
                    .mapToMap()
                    .one());
    assertThat(row.get("status")).isEqualTo("sent");
    assertThat(row.get("subject"))
        .as("the outbox shows what was sent")
        .isEqualTo(preview.get("subject"));
    assertThat(row.get("body")).isEqualTo(preview.get("body"));

    assertThat(smtp.received()).hasSize(1);
    Message message = parse(smtp.received().get(0).data());
    assertThat(message.getSubject()).isEqualTo("Rechnung 42 für Zoë <script>x</script> & Co ✉");
    Multipart alternative = (Multipart) message.getBody();
    assertThat(alternative.getSubType()).isEqualTo("alternative");
    String text = text(alternative.getBodyParts().get(0));
    String html = text(alternative.getBodyParts().get(1));
    assertThat(alternative.getBodyParts().get(1).getMimeType()).isEqualTo("text/html");
    assertThat(html)
        .contains("<p>Dear Zoë &lt;script&gt;x&lt;/script&gt; &amp; Co,</p>")
        .contains("<li>Café ☕: 2 EUR</li>", "<li>Tea: 1.50 EUR</li>", "<p>Please pay.</p>")
        .contains("<p><b>Accounts</b></p>")
        .doesNotContain("<script>");
    assertThat(alternative.getBodyParts().get(0).getMimeType()).isEqualTo("text/plain");
    assertThat(text)
        .contains("Dear Zoë <script>x</script> & Co,", "Tea: 1.50 EUR", "Café ☕: 2 EUR", "Accounts")
        .doesNotContain("&lt;", "<li>");
  }

  @Test
  void aRetrySendsTheTextStoredAtTheFirstClaimWithoutRenderingAgain() throws Exception {
    sql("SELECT mail.add_template('notice', 'Notice {{n}}', 'Body {{n}}')");
    long id = send("later@example.com", "notice", "{\"n\": 1}");
    smtp.rcptRule(a -> "450 4.2.1 mailbox busy");

    drain();

    assertThat(row(id)).containsEntry("status", "retrying").containsEntry("subject", "Notice 1");
    // Whatever happens to the template copy now, the stored rendering is what goes out.
    sql("UPDATE mail.outbox SET template_body = 'changed {{n}}' WHERE id = ?", id);
    sql("SELECT mail.add_template('notice', 'Other {{n}}', 'Other')");
    smtp.rcptRule(a -> null);
    clock.advance(Duration.ofMinutes(2));
    drain();

    assertThat(row(id))
        .containsEntry("status", "sent")
        .containsEntry("subject", "Notice 1")
        .containsEntry("body", "Body 1");
    assertThat(smtp.received()).hasSize(1);
    Message message = parse(smtp.received().get(0).data());
    assertThat(message.getSubject()).isEqualTo("Notice 1");
    assertThat(text(message).stripTrailing()).isEqualTo("Body 1");
  }

  @Test
  void aTemplateWithASectionOverAThousandItemsIsSentWhole() throws Exception {
    sql(
        "SELECT mail.add_template('report', 'Report: {{count}} rows',"
            + " E'Rows:\\n{{#rows}}\\n{{n}}. {{name}}\\n{{/rows}}\\nEnd of report\\n')");
    long id =
        db.jdbi()
            .withHandle(h ->
                h.createQuery(
                        "SELECT mail.send('ops@example.com', template_name => 'report',"
                            + " template_data => jsonb_build_object('count', 1000, 'rows',"
                            + " (SELECT jsonb_agg(jsonb_build_object('n', g, 'name', 'item ' || g)"
                            + " ORDER BY g) FROM generate_series(1, 1000) g)))")
                    .mapTo(Long.class)
                    .one());

    drain();

    assertThat(row(id)).containsEntry("status", "sent");
    Message message = parse(smtp.received().get(0).data());
    assertThat(message.getSubject()).isEqualTo("Report: 1000 rows");
    List<String> lines = text(message).lines().toList();
    assertThat(lines).hasSize(1002);
    assertThat(lines.get(0)).isEqualTo("Rows:");
    assertThat(lines.get(1)).isEqualTo("1. item 1");
    assertThat(lines.get(1000)).isEqualTo("1000. item 1000");
    assertThat(lines.get(1001)).isEqualTo("End of report");
  }

  @Test
  void aThousandMailsFromOneTemplateEachCarryTheirOwnData() throws Exception {
    sql(
        "SELECT mail.add_template('welcome', 'Welcome, {{name}} (#{{n}})',"
            + " E'Hello {{name}},\\nyour number is {{n}}.\\n{{#vip}}You are a VIP.\\n{{/vip}}')");
    sql(
        "INSERT INTO mail.outbox (recipients, template_name, template_data)"
            + " SELECT 'user' || g || '@example.com', 'welcome',"
            + " jsonb_build_object('n', g, 'name', 'User ' || g, 'vip', g % 100 = 0)"
            + " FROM generate_series(1, 1000) g");

    drain();

    long matching =
        db.jdbi()
            .withHandle(h ->
                h.createQuery(
                        "SELECT count(*) FROM mail.outbox WHERE status = 'sent'"
                            + " AND subject = 'Welcome, User ' || (template_data->>'n')"
                            + " || ' (#' || (template_data->>'n') || ')'")
                    .mapTo(Long.class)
                    .one());
    assertThat(matching).isEqualTo(1000L);
    assertThat(smtp.received()).hasSize(1000);
    Set<String> subjects = new HashSet<>();
    Pattern number = Pattern.compile("user(\\d+)@example.com");
    int vips = 0;
    for (RecordingSmtpServer.Received r : smtp.received()) {
      Matcher m = number.matcher(r.recipients().get(0));
      assertThat(m.matches()).isTrue();
      String n = m.group(1);
      Message message = parse(r.data());
      subjects.add(message.getSubject());
      assertThat(message.getSubject()).isEqualTo("Welcome, User " + n + " (#" + n + ")");
      String body = text(message);
      assertThat(body).startsWith("Hello User " + n + ",\nyour number is " + n + ".\n");
      if (body.contains("You are a VIP.")) {
        vips++;
        assertThat(Integer.parseInt(n) % 100).isZero();
      }
    }
    assertThat(subjects).hasSize(1000);
    assertThat(vips).isEqualTo(10);
  }

  @Test
  void aTemplateCopyTheEngineCannotCompileFailsTheMailWithItsReason() throws Exception {
    sql("SELECT mail.add_template('ok', 'Hi', 'Body')");
    long id = send("ann@example.com", "ok", "{}");
    // Only an admin or the schema owner can write this column; the engine must still not crash.
    sql("UPDATE mail.outbox SET template_body = 'broken {{#open}}' WHERE id = ?", id);

    drain();

    Map<String, Object> row = row(id);
    assertThat(row.get("status")).isEqualTo("failed");
    assertThat(row.get("last_reply_code")).isEqualTo(554);
    assertThat((String) row.get("last_reply_text")).contains("template ok", "open");
    assertThat(row.get("subject")).isNull();
    assertThat(smtp.received()).isEmpty();
  }

  private static Message parse(String data) throws IOException {
    return new DefaultMessageBuilder()
        .parseMessage(new ByteArrayInputStream(data.getBytes(StandardCharsets.ISO_8859_1)));
  }

  /** The decoded text of a single-part entity, line breaks as LF. */
  private static String text(Entity entity) throws IOException {
    StringWriter out = new StringWriter();
    try (Reader reader = ((TextBody) entity.getBody()).getReader()) {
      reader.transferTo(out);
    }
    return out.toString().replace("\r\n", "\n");
  }
}
