package dev.postroom.mime;

import static dev.postroom.mime.Mime4j.header;
import static dev.postroom.mime.Mime4j.leaf;
import static dev.postroom.mime.Mime4j.parse;
import static dev.postroom.mime.Mime4j.text;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import org.apache.james.mime4j.dom.Entity;
import org.apache.james.mime4j.dom.Message;
import org.apache.james.mime4j.dom.Multipart;
import org.junit.jupiter.api.Test;

class MessageComposerBodyTest {

  private final MessageComposer composer = new MessageComposer();

  @Test
  void aTextMailIsASingleUtf8TextPlainPart() {
    TestMail mail = new TestMail();
    mail.body = "Grüße aus Köln,\nZoë\n";

    Message parsed = parse(composer.toBytes(mail.build()));

    assertThat(parsed.getMimeType()).isEqualTo("text/plain");
    assertThat(parsed.getCharset()).isEqualToIgnoringCase("UTF-8");
    assertThat(text(parsed)).isEqualTo("Grüße aus Köln,\r\nZoë\r\n");
  }

  @Test
  void plainAsciiGoes7bitMostlyLatinTextQuotedPrintableAndJapaneseBase64() {
    assertThat(encodingOf("Hello Ann,\nall fine.\n")).isEqualTo("7bit");
    assertThat(encodingOf("Grüße aus Köln, wir sehen uns nächste Woche.\n"))
        .isEqualTo("quoted-printable");
    assertThat(encodingOf("請求書をお送りします。ご確認ください。よろしくお願いいたします。\n")).isEqualTo("base64");
  }

  @Test
  void a2000CharacterLineRoundTripsIntactWithNoWireLineOver998() {
    TestMail mail = new TestMail();
    String longLine = "0123456789".repeat(200);
    mail.body = "before\n" + longLine + "\nafter\n";

    Message parsed = parse(composer.toBytes(mail.build()));

    assertThat(header(parsed, "Content-Transfer-Encoding")).isEqualTo("quoted-printable");
    assertThat(text(parsed)).isEqualTo("before\r\n" + longLine + "\r\nafter\r\n");
  }

  @Test
  void bodyLinesThatAreOnlyADotArriveUnchanged() {
    TestMail mail = new TestMail();
    mail.body = "first\n.\nmiddle\n.\n";

    Message parsed = parse(composer.toBytes(mail.build()));

    assertThat(text(parsed)).isEqualTo("first\r\n.\r\nmiddle\r\n.\r\n");
  }

  @Test
  void bareCrAndLfInTheBodyBecomeCrlfLineBreaksAndNeverEndALineEarly() {
    TestMail mail = new TestMail();
    mail.body = "one\rtwo\nthree\r\n.\rfour\n\r.\n";

    byte[] message = composer.toBytes(mail.build());

    assertThat(text(parse(message))).isEqualTo("one\r\ntwo\r\nthree\r\n.\r\nfour\r\n\r\n.\r\n");
  }

  @Test
  void anEmptyOrMissingBodyGivesAnEmptyTextPart() {
    TestMail mail = new TestMail();
    mail.body = null;
    Message missing = parse(composer.toBytes(mail.build()));
    mail.body = "";
    mail.format = BodyFormat.HTML;
    Message empty = parse(composer.toBytes(mail.build()));

    assertThat(missing.getMimeType()).isEqualTo("text/plain");
    assertThat(text(missing)).isBlank();
    assertThat(empty.getMimeType()).isEqualTo("text/plain");
    assertThat(text(empty)).isBlank();
  }

  @Test
  void anHtmlMailIsAlternativeWithAReadableTextPartFirstAndTheHtmlUnchanged() {
    String html =
        "<html><head><style>p{color:red}</style></head><body>"
            + "<h1>Your order</h1><p>Dear Zoë,<br>thank you for ordering <b>three</b> items:</p>"
            + "<ul><li>Kaffee</li><li>茶</li></ul>"
            + "<p>Track it <a href=\"https://shop.example/track/42\">here</a>.</p></body></html>";
    TestMail mail = new TestMail().html(html);

    Message parsed = parse(composer.toBytes(mail.build()));

    assertThat(parsed.getMimeType()).isEqualTo("multipart/alternative");
    Multipart alternative = (Multipart) parsed.getBody();
    assertThat(alternative.getBodyParts())
        .extracting(Entity::getMimeType)
        .containsExactly("text/plain", "text/html");
    String plain = text(leaf(parsed, "text/plain"));
    assertThat(plain)
        .contains("Your order", "Dear Zoë,\r\nthank you for ordering three items:")
        .contains("- Kaffee\r\n- 茶", "here <https://shop.example/track/42>")
        .doesNotContain("<p>", "color:red");
    assertThat(text(leaf(parsed, "text/html"))).isEqualTo(html);
  }

  private String encodingOf(String body) {
    TestMail mail = new TestMail();
    mail.body = body;
    Message parsed = parse(composer.toBytes(mail.build()));
    assertThat(text(parsed)).isEqualTo(body.replace("\n", "\r\n"));
    return header(parsed, "Content-Transfer-Encoding");
  }

  static String ascii(byte[] message) {
    return new String(message, StandardCharsets.US_ASCII);
  }
}
