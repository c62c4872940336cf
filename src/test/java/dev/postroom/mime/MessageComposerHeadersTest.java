package dev.postroom.mime;

import static dev.postroom.mime.Mime4j.header;
import static dev.postroom.mime.Mime4j.parse;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.groups.Tuple.tuple;

import java.net.IDN;
import java.nio.charset.StandardCharsets;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.james.mime4j.dom.Message;
import org.apache.james.mime4j.dom.address.Mailbox;
import org.junit.jupiter.api.Test;

class MessageComposerHeadersTest {

  private final MessageComposer composer = new MessageComposer();

  @Test
  void everyHeaderDecodesToTheOriginalTextIncludingJapaneseEmojiAndAccents() {
    TestMail mail = new TestMail();
    mail.from = new MailAddress("zoe@example.com", "Zoë Müller-Lüdenscheidt 👩‍💻");
    mail.to =
        List.of(
            new MailAddress("taro@example.jp", "山田 太郎"),
            new MailAddress("ann@example.com", "Smith, Ann \"the boss\""),
            MailAddress.of("bob@example.org"));
    mail.cc = List.of(new MailAddress("chloe@example.fr", "Chloé Dubois"));
    mail.replyTo = List.of(new MailAddress("support@example.com", "Support – Ærø"));
    mail.subject = "Rechnung für März — 請求書をお送りします 🎉 and a long tail of words to fold";
    mail.headers = new LinkedHashMap<>();
    mail.headers.put("X-Campaign", "Frühling 2026 🌸");
    mail.headers.put("List-Unsubscribe", "<mailto:unsubscribe@example.com?subject=stop>");
    mail.headers.put("Sender", "Relay <relay@example.com>");

    Message parsed = parse(composer.toBytes(mail.build()));

    Mailbox from = parsed.getFrom().get(0);
    assertThat(from.getName()).isEqualTo("Zoë Müller-Lüdenscheidt 👩‍💻");
    assertThat(from.getAddress()).isEqualTo("zoe@example.com");
    assertThat(parsed.getTo().flatten())
        .extracting(Mailbox::getName, Mailbox::getAddress)
        .containsExactly(
            tuple("山田 太郎", "taro@example.jp"),
            tuple("Smith, Ann \"the boss\"", "ann@example.com"),
            tuple(null, "bob@example.org"));
    assertThat(parsed.getCc().flatten().get(0).getName()).isEqualTo("Chloé Dubois");
    assertThat(parsed.getReplyTo().flatten().get(0).getName()).isEqualTo("Support – Ærø");
    assertThat(parsed.getSubject()).isEqualTo(mail.subject);
    assertThat(header(parsed, "X-Campaign")).isEqualTo("Frühling 2026 🌸");
    assertThat(header(parsed, "List-Unsubscribe"))
        .isEqualTo("<mailto:unsubscribe@example.com?subject=stop>");
    assertThat(parsed.getSender().getAddress()).isEqualTo("relay@example.com");
    assertThat(header(parsed, "Date")).isEqualTo("Sat, 28 Nov 2026 15:30:21 +0000");
    assertThat(parsed.getDate()).isEqualTo(Date.from(mail.date));
    assertThat(header(parsed, "MIME-Version")).isEqualTo("1.0");
  }

  @Test
  void extraHeadersKeepTheirOrder() {
    TestMail mail = new TestMail();
    mail.headers.put("X-Zulu", "1");
    mail.headers.put("X-Alpha", "2");
    mail.headers.put("X-Mike", "3");

    String text = new String(composer.toBytes(mail.build()), StandardCharsets.US_ASCII);

    assertThat(text).containsSubsequence("X-Zulu: 1\r\n", "X-Alpha: 2\r\n", "X-Mike: 3\r\n");
  }

  @Test
  void headerLinesAreFoldedBelow78CharactersWhereTheyHaveWhitespace() {
    TestMail mail = new TestMail();
    mail.subject = "word ".repeat(60).strip();
    mail.to =
        List.of(
            new MailAddress("first.recipient@example.com", "First Recipient"),
            new MailAddress("second.recipient@example.com", "Second Recipient"),
            new MailAddress("third.recipient@example.com", "Третий получатель"));
    String text = new String(composer.toBytes(mail.build()), StandardCharsets.US_ASCII);
    String headers = text.substring(0, text.indexOf("\r\n\r\n"));

    assertThat(headers.split("\r\n")).allSatisfy(line -> assertThat(line).hasSizeLessThan(78));
    assertThat(parse(text.getBytes(StandardCharsets.US_ASCII)).getSubject())
        .isEqualTo(mail.subject);
  }

  @Test
  void aSubjectWithAnUnbreakable2000CharacterWordStillKeepsLinesWithin998() {
    TestMail mail = new TestMail();
    mail.subject = "x".repeat(2000);

    assertThat(parse(composer.toBytes(mail.build())).getSubject()).isEqualTo(mail.subject);
  }

  @Test
  void theMessageIdIsExactlyTheGivenOneAndStableAcrossCompositions() {
    MailMessage message = new TestMail().attach("a.txt", null, new byte[] {'a'}).build();

    Message first = parse(composer.toBytes(message));
    Message second = parse(new MessageComposer().toBytes(message));

    assertThat(first.getMessageId()).isEqualTo("<42.1a2b3c@postroom.example>");
    assertThat(second.getMessageId()).isEqualTo(first.getMessageId());
  }

  @Test
  void highImportanceAndConfidentialSensitivityAreMarkedAsOutlookReadsThem() {
    TestMail mail = new TestMail();
    mail.importance = Importance.HIGH;
    mail.sensitivity = Sensitivity.CONFIDENTIAL;
    Message high = parse(composer.toBytes(mail.build()));
    mail.importance = Importance.LOW;
    mail.sensitivity = Sensitivity.PERSONAL;
    Message low = parse(composer.toBytes(mail.build()));

    assertThat(header(high, "Importance")).isEqualTo("high");
    assertThat(header(high, "X-Priority")).isEqualTo("1 (Highest)");
    assertThat(header(high, "Sensitivity")).isEqualTo("Company-Confidential");
    assertThat(header(low, "Importance")).isEqualTo("low");
    assertThat(header(low, "X-Priority")).isEqualTo("5 (Lowest)");
    assertThat(header(low, "Sensitivity")).isEqualTo("Personal");
  }

  @Test
  void anExtraPriorityHeaderReplacesTheOneDerivedFromImportance() {
    TestMail mail = new TestMail();
    mail.importance = Importance.HIGH;
    mail.headers.put("X-Priority", "2 (High)");

    byte[] composed = composer.toBytes(mail.build());

    assertThat(header(parse(composed), "X-Priority")).isEqualTo("2 (High)");
    assertThat(new String(composed, StandardCharsets.US_ASCII)).containsOnlyOnce("X-Priority");
  }

  @Test
  void normalImportanceAndSensitivityAddNoHeaders() {
    Message parsed = parse(composer.toBytes(new TestMail().build()));

    assertThat(header(parsed, "Importance")).isNull();
    assertThat(header(parsed, "X-Priority")).isNull();
    assertThat(header(parsed, "Sensitivity")).isNull();
  }

  @Test
  void bccAppearsNowhereAndCannotBeSmuggledInAsAnExtraHeader() {
    byte[] message = composer.toBytes(new TestMail().build());

    assertThat(new String(message, StandardCharsets.US_ASCII)).doesNotContainIgnoringCase("bcc");
    assertThatThrownBy(() -> extraHeader("Bcc", "secret@example.com"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("Bcc");
    assertThatThrownBy(() -> extraHeader("Content-Type", "text/html"))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void lineBreaksInHeaderTextAreRefusedSoNoHeaderCanBeInjected() {
    TestMail mail = new TestMail();
    mail.subject = "Hi\r\nBcc: victim@example.com";
    assertThatThrownBy(mail::build).hasMessageContaining("subject must not contain CR or LF");
    assertThatThrownBy(() -> extraHeader("X-Note", "a\nb")).hasMessageContaining("X-Note");
    assertThatThrownBy(() -> new MailAddress("a@example.com", "Ann\rBcc: x@example.com"))
        .hasMessageContaining("displayName");
    assertThatThrownBy(() -> extraHeader("Bad Name", "x")).hasMessageContaining("Bad Name");
  }

  @Test
  void aMailWithOnlyBlindCopyRecipientsSaysUndisclosedRecipients() {
    TestMail mail = new TestMail();
    mail.to = List.of();

    assertThat(header(parse(composer.toBytes(mail.build())), "To"))
        .isEqualTo("undisclosed-recipients:;");
  }

  @Test
  void anInternationalizedDomainIsWrittenInItsAsciiForm() {
    TestMail mail = new TestMail();
    mail.to = List.of(MailAddress.of("jürgen@bücher.example"));
    assertThatThrownBy(() -> composer.toBytes(mail.build())).hasMessageContaining("SMTPUTF8");

    mail.to = List.of(MailAddress.of("juergen@bücher.example"));
    Message parsed = parse(composer.toBytes(mail.build()));

    assertThat(parsed.getTo().flatten().get(0).getAddress())
        .isEqualTo("juergen@" + IDN.toASCII("bücher.example"));
  }

  private static MailMessage extraHeader(String name, String value) {
    TestMail mail = new TestMail();
    mail.headers = Map.of(name, value);
    return mail.build();
  }
}
