package dev.postroom.mime;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * Keeps {@code src/test/resources/mime/sample.eml} equal to what Postroom sends, so reviewers can
 * read it. After a deliberate change, regenerate it with {@code -Dpostroom.updateSamples=true}.
 */
class SampleMessageTest {

  private static final Path SAMPLE = Path.of("src/test/resources/mime/sample.eml");

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

  @Test
  void theCheckedInSampleIsExactlyWhatTheComposerProduces() throws IOException {
    byte[] composed = deterministicComposer().toBytes(sample());
    if (Boolean.getBoolean("postroom.updateSamples")) {
      Files.write(SAMPLE, composed);
    }

    Mime4j.parse(composed);
    assertThat(new String(composed, StandardCharsets.US_ASCII))
        .isEqualTo(new String(checkedIn(), StandardCharsets.US_ASCII));
  }

  private static byte[] checkedIn() throws IOException {
    try (InputStream in = SampleMessageTest.class.getResourceAsStream("/mime/sample.eml")) {
      assertThat(in).as("sample.eml on the test class path").isNotNull();
      return in.readAllBytes();
    }
  }
}
