package dev.postroom.mime;

import static org.assertj.core.api.Assertions.assertThat;

import dev.postroom.mime.RecipientReport.Action;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * Keeps {@code src/test/resources/mime/sample.eml} and {@code sample-dsn.eml} equal to what
 * Postroom sends, so reviewers can read it. After a deliberate change, regenerate it with {@code
 * -Dpostroom.updateSamples=true}.
 */
class SampleMessageTest {

  private static final Path SAMPLES = Path.of("src/test/resources/mime");

  static MailMessage sample() {
    TestMail mail = new TestMail();
    mail.from = new MailAddress("billing@shop.example", "Shop Billing – Zoë");
    mail.to = List.of(new MailAddress("taro@example.jp", "山田 太郎"));
    mail.cc = List.of(MailAddress.of("accounts@example.jp"));
    mail.replyTo = List.of(new MailAddress("help@shop.example", "Shop Help"));
    mail.subject = "Your invoice for November — 11月の請求書";
    mail.importance = Importance.HIGH;
    mail.headers.put("X-Postroom-Mail-Id", "42");
    mail.html(
        "<html><body><img src=\"cid:logo.png\" alt=\"Shop logo\">"
            + "<h1>Invoice 2026-11</h1>"
            + "<p>Dear Mr Yamada,<br>thank you for your order. It contained:</p>"
            + "<ul><li>Kaffee, 250 g</li><li>緑茶 (sencha)</li></ul>"
            + "<p>Your invoice is attached. See your orders <a href=\"https://shop.example/orders\">"
            + "online</a>.</p><p>Grüße, Zoë</p></body></html>");
    mail.attach("logo.png", "image/png", new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n'});
    mail.attach(
        "Rechnung März.csv", null, "item;price\nKaffee;4,50 €\n".getBytes(StandardCharsets.UTF_8));
    return mail.build();
  }

  static MessageComposer deterministicComposer() {
    AtomicInteger next = new AtomicInteger();
    return new MessageComposer(() -> "=_postroom_sample_" + next.incrementAndGet());
  }

  static DeliveryReport sampleReport() {
    Instant tried = Instant.parse("2026-11-28T15:30:25Z");
    return new DeliveryReport(
        new MailAddress("billing@shop.example", "Shop Billing"),
        new MailAddress("postmaster@mta.shop.example", "Mail Delivery System"),
        "mta.shop.example",
        "<42.1a2b3c@postroom.example>",
        null,
        "Date: Sat, 28 Nov 2026 15:30:21 +0000\r\n"
            + "From: Shop Billing <billing@shop.example>\r\n"
            + "To: taro@example.jp, nobody@example.net\r\n"
            + "Message-ID: <42.1a2b3c@postroom.example>\r\n"
            + "Subject: Your invoice for November\r\n",
        Instant.parse("2026-11-28T15:30:21Z"),
        List.of(
            new RecipientReport(
                "nobody@example.net",
                Action.FAILED,
                "5.1.1",
                "mx.example.net",
                "smtp; 550 5.1.1 <nobody@example.net>: Recipient address rejected: User unknown",
                tried,
                null)),
        "<dsn.42.1a2b3c@mta.shop.example>",
        Instant.parse("2026-11-28T15:30:26Z"));
  }

  @Test
  void theCheckedInSampleIsExactlyWhatTheComposerProduces() throws IOException {
    assertSample("sample.eml", deterministicComposer().toBytes(sample()));
  }

  @Test
  void theCheckedInDeliveryReportSampleIsExactlyWhatTheComposerProduces() throws IOException {
    AtomicInteger next = new AtomicInteger();
    DeliveryReportComposer composer =
        new DeliveryReportComposer(() -> "=_postroom_sample_" + next.incrementAndGet());
    assertSample("sample-dsn.eml", composer.toBytes(sampleReport()));
  }

  private static void assertSample(String name, byte[] composed) throws IOException {
    if (Boolean.getBoolean("postroom.updateSamples")) {
      Files.write(SAMPLES.resolve(name), composed);
    }
    Mime4j.parse(composed);
    assertThat(new String(composed, StandardCharsets.US_ASCII))
        .isEqualTo(new String(checkedIn(name), StandardCharsets.US_ASCII));
  }

  private static byte[] checkedIn(String name) throws IOException {
    try (InputStream in = SampleMessageTest.class.getResourceAsStream("/mime/" + name)) {
      assertThat(in).as(name + " on the test class path").isNotNull();
      return in.readAllBytes();
    }
  }
}
