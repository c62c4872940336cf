package dev.postroom.dkim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.postroom.mime.AttachmentPart;
import dev.postroom.mime.BodyFormat;
import dev.postroom.mime.ContentSource;
import dev.postroom.mime.DeliveryReport;
import dev.postroom.mime.DeliveryReportComposer;
import dev.postroom.mime.Importance;
import dev.postroom.mime.MailAddress;
import dev.postroom.mime.MailMessage;
import dev.postroom.mime.MessageComposer;
import dev.postroom.mime.RecipientReport;
import dev.postroom.mime.Sensitivity;
import dev.postroom.smtp.MessageContent;
import dev.postroom.testing.ManualClock;
import dev.postroom.testing.TestDatabase;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.security.KeyPairGenerator;
import java.time.Instant;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.jdbi.v3.core.Jdbi;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Messages as the dispatcher composes them, signed with keys added through mail.add_dkim_key, and
 * checked by dkimpy against the dns_record that mail.dkim_keys tells the DBA to publish.
 */
class DkimSigningTest {
  @RegisterExtension static final TestDatabase db = new TestDatabase();

  private static Jdbi jdbi;
  private static final ManualClock clock = new ManualClock(Instant.parse("2026-12-01T12:00:00Z"));
  private static Map<String, String> records;
  private static DkimSigner signer;

  @BeforeAll
  static void keys() throws Exception {
    jdbi = db.jdbi();
    addKey("rsa.example", "s2048", "RSA", 2048, "rsa-sha256");
    addKey("ed.example", "ed1", "Ed25519", 0, "ed25519-sha256");
    addKey("both.example", "old", "RSA", 1024, "rsa-sha256");
    addKey("both.example", "new", "Ed25519", 0, "ed25519-sha256");
    records = new LinkedHashMap<>();
    jdbi.useHandle(h ->
        h.createQuery("SELECT dns_name, dns_record FROM mail.dkim_keys")
            .map((rs, ctx) -> Map.entry(rs.getString(1), rs.getString(2)))
            .forEach(e -> records.put(e.getKey(), e.getValue())));
    signer = new DkimSigner(new DkimKeys(jdbi, clock), clock);
  }

  static String pem(byte[] pkcs8) {
    return "-----BEGIN PRIVATE KEY-----\n"
        + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(pkcs8)
        + "\n-----END PRIVATE KEY-----\n";
  }

  static String newPem(String type, int bits) throws Exception {
    KeyPairGenerator gen = KeyPairGenerator.getInstance(type);
    if (bits > 0) {
      gen.initialize(bits);
    }
    return pem(gen.generateKeyPair().getPrivate().getEncoded());
  }

  private static void addKey(String domain, String selector, String type, int bits, String alg)
      throws Exception {
    String pem = newPem(type, bits);
    jdbi.useHandle(h ->
        h.createQuery("SELECT mail.add_dkim_key(:d, :s, :pem, :a)")
            .bind("d", domain)
            .bind("s", selector)
            .bind("pem", pem)
            .bind("a", alg)
            .mapTo(Integer.class)
            .one());
  }

  private static MailMessage mail(
      String from,
      String subject,
      String body,
      BodyFormat format,
      Map<String, String> headers,
      List<AttachmentPart> attachments) {
    return new MailMessage(
        new MailAddress(from, "Postroom Sender"),
        List.of(MailAddress.of("ann@example.net")),
        List.of(MailAddress.of("bob@example.net")),
        List.of(MailAddress.of("replies@example.net")),
        subject,
        body,
        format,
        Importance.NORMAL,
        Sensitivity.NORMAL,
        headers,
        attachments,
        "<42.abc@postroom.test>",
        Instant.parse("2026-12-01T11:59:00Z"));
  }

  private static MailMessage plain(String from) {
    return mail(
        from,
        "Invoice 42",
        "Hello Ann,\n\nyour invoice.  Thanks \t \n\n\n",
        BodyFormat.TEXT,
        Map.of(),
        List.of());
  }

  private static byte[] signed(MailMessage message) throws Exception {
    return bytes(signer.sign(MessageContent.of(new MessageComposer().toBytes(message))));
  }

  static byte[] bytes(MessageContent content) throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    content.writeTo(out);
    return out.toByteArray();
  }

  private static void assertVerifies(byte[] message, int signatures) throws Exception {
    DkimVerifier.Result result = DkimVerifier.verify(message, records);
    assertThat(result.passed()).as(result.output()).isTrue();
    assertThat(result.output().lines().filter(l -> l.startsWith("pass "))).hasSize(signatures);
  }

  @Test
  void anRsaSignedMessageVerifiesAgainstThePublishedRecord() throws Exception {
    byte[] message = signed(plain("sender@rsa.example"));

    String text = new String(message, StandardCharsets.US_ASCII);
    assertThat(text)
        .startsWith(
            "DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=rsa.example; s=s2048;");
    assertThat(text)
        .contains("h=from:from:to:cc:subject:date:message-id:mime-version:content-type:reply-to;");
    assertVerifies(message, 1);
  }

  @Test
  void anEd25519SignedMessageVerifies() throws Exception {
    byte[] message = signed(plain("Sender@ED.example"));

    assertThat(new String(message, StandardCharsets.US_ASCII))
        .startsWith(
            "DKIM-Signature: v=1; a=ed25519-sha256; c=relaxed/relaxed; d=ed.example; s=ed1;");
    assertVerifies(message, 1);
  }

  @Test
  void aNonAsciiSubjectAndBodyVerify() throws Exception {
    byte[] message =
        signed(
            mail(
                "news@rsa.example",
                "Grüße aus Köln – 請求書 №42 🎉",
                "Schöne Grüße,\r\nÄrger ist vorbei.\r\n",
                BodyFormat.TEXT,
                Map.of(),
                List.of()));

    assertVerifies(message, 1);
  }

  @Test
  void htmlWithInlineImagesAndAttachmentsVerifies() throws Exception {
    byte[] pdf = new byte[300_000];
    new Random(7).nextBytes(pdf);
    byte[] message =
        signed(
            mail(
                "reports@ed.example",
                "Quarterly report",
                "<p>Hello <b>Ann</b>,</p>\n<p><img src=\"cid:logo.png\"></p>\n<p>  spaced   out  </p>",
                BodyFormat.HTML,
                Map.of(),
                List.of(
                    new AttachmentPart(
                        "logo.png", "image/png", null, ContentSource.of(new byte[] {1, 2, 3})),
                    new AttachmentPart(
                        "report.pdf", "application/pdf", null, ContentSource.of(pdf)),
                    new AttachmentPart(
                        "notes.txt",
                        "text/plain",
                        null,
                        ContentSource.of(
                            "a line   with  spaces  \n\n\n".getBytes(StandardCharsets.UTF_8))))));

    assertThat(new String(message, StandardCharsets.US_ASCII)).contains("multipart/mixed");
    assertVerifies(message, 1);
  }

  @Test
  void longFoldedHeadersAndListHeadersVerify() throws Exception {
    Map<String, String> headers = new LinkedHashMap<>();
    headers.put(
        "List-Unsubscribe",
        "<https://mail.rsa.example/unsubscribe/"
            + "A".repeat(120)
            + ">, <mailto:unsubscribe@rsa.example?subject=unsubscribe>");
    headers.put("List-Unsubscribe-Post", "List-Unsubscribe=One-Click");
    headers.put("X-Campaign", "word ".repeat(80).strip());
    byte[] message =
        signed(
            mail(
                "news@rsa.example",
                "A very long subject line that goes on and on, "
                    + "and on ".repeat(40)
                    + "until it folds",
                "Hi",
                BodyFormat.TEXT,
                headers,
                List.of()));

    String text = new String(message, StandardCharsets.US_ASCII);
    assertThat(text).containsPattern("\r\n[ \t]+and on");
    assertThat(text).contains("reply-to:list-unsubscribe:list-unsubscribe-post;");
    assertVerifies(message, 1);
  }

  @Test
  void aDeliveryStatusNotificationVerifies() throws Exception {
    DeliveryReport report =
        new DeliveryReport(
            MailAddress.of("app@example.net"),
            new MailAddress("postmaster@ed.example", "Mail Delivery System"),
            "mx.ed.example",
            "<42.abc@postroom.test>",
            null,
            "From: app@example.net\r\nSubject: Invoice 42\r\n",
            Instant.parse("2026-12-01T10:00:00Z"),
            List.of(
                new RecipientReport(
                    "bad@example.org",
                    RecipientReport.Action.FAILED,
                    "5.1.1",
                    "dns; mx.example.org",
                    "smtp; 550 5.1.1 no such user",
                    Instant.parse("2026-12-01T10:01:00Z"),
                    null)),
            "<dsn.1@ed.example>",
            Instant.parse("2026-12-01T10:02:00Z"));
    byte[] message =
        bytes(signer.sign(MessageContent.of(new DeliveryReportComposer().toBytes(report))));

    assertThat(new String(message, StandardCharsets.US_ASCII)).contains("multipart/report");
    assertVerifies(message, 1);
  }

  @Test
  void twoKeysOfADomainSignWithTheNewestUnlessAllAreConfigured() throws Exception {
    byte[] newest = signed(plain("a@both.example"));
    assertThat(new String(newest, StandardCharsets.US_ASCII))
        .startsWith("DKIM-Signature: v=1; a=ed25519-sha256")
        .doesNotContain("s=old;");
    assertVerifies(newest, 1);

    jdbi.useHandle(h -> h.execute("SELECT mail.configure('dkim_sign_all_keys', 'true')"));
    try {
      DkimSigner both = new DkimSigner(new DkimKeys(jdbi, clock), clock);
      byte[] twice =
          bytes(
              both.sign(MessageContent.of(new MessageComposer().toBytes(plain("a@both.example")))));
      assertVerifies(twice, 2);
    } finally {
      jdbi.useHandle(h -> h.execute("SELECT mail.configure('dkim_sign_all_keys', NULL)"));
    }
  }

  @Test
  void aChangedBodyByteOrHeaderFailsVerification() throws Exception {
    byte[] message = signed(plain("sender@rsa.example"));
    String text = new String(message, StandardCharsets.US_ASCII);

    byte[] body =
        text.replace("your invoice.", "your invoicE.").getBytes(StandardCharsets.US_ASCII);
    DkimVerifier.Result changed = DkimVerifier.verify(body, records);
    assertThat(changed.passed()).as(changed.output()).isFalse();

    byte[] subject =
        text.replace("Subject: Invoice 42", "Subject: Invoice 43")
            .getBytes(StandardCharsets.US_ASCII);
    assertThat(DkimVerifier.verify(subject, records).passed()).isFalse();

    byte[] secondFrom =
        ("From: mallory@evil.example\r\n" + text).getBytes(StandardCharsets.US_ASCII);
    assertThat(DkimVerifier.verify(secondFrom, records).passed())
        .as("From is over-signed")
        .isFalse();
  }

  @Test
  void mailFromADomainWithoutAKeyGoesOutUnchanged() throws Exception {
    MessageContent content =
        MessageContent.of(new MessageComposer().toBytes(plain("a@nokey.example")));

    assertThat(signer.sign(content)).isSameAs(content);
  }

  @Test
  void contentThatChangesBetweenSigningAndSendingIsNotSent() throws Exception {
    byte[][] versions = {
      new MessageComposer().toBytes(plain("sender@rsa.example")),
      new MessageComposer()
          .toBytes(
              mail(
                  "sender@rsa.example",
                  "Invoice 42",
                  "other body",
                  BodyFormat.TEXT,
                  Map.of(),
                  List.of()))
    };
    int[] calls = {0};
    MessageContent changing =
        new MessageContent() {
          @Override
          public long size() {
            return versions[0].length;
          }

          @Override
          public boolean eightBit() {
            return false;
          }

          @Override
          public void writeTo(java.io.OutputStream out) throws java.io.IOException {
            out.write(versions[Math.min(calls[0]++, 1)]);
          }
        };
    MessageContent signedContent = signer.sign(changing);

    assertThatThrownBy(() -> bytes(signedContent))
        .isInstanceOf(java.io.IOException.class)
        .hasMessageContaining("changed between DKIM signing and sending");
  }
}
