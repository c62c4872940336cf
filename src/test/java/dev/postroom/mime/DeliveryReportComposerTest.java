package dev.postroom.mime;

import static dev.postroom.mime.Mime4j.header;
import static dev.postroom.mime.Mime4j.parse;
import static dev.postroom.mime.Mime4j.text;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.postroom.mime.RecipientReport.Action;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.apache.james.mime4j.dom.Entity;
import org.apache.james.mime4j.dom.Header;
import org.apache.james.mime4j.dom.Message;
import org.apache.james.mime4j.dom.Multipart;
import org.apache.james.mime4j.dom.TextBody;
import org.apache.james.mime4j.message.DefaultMessageBuilder;
import org.junit.jupiter.api.Test;

class DeliveryReportComposerTest {

  private static final Instant ARRIVED = Instant.parse("2026-11-28T15:00:00Z");
  private static final Instant TRIED = Instant.parse("2026-11-28T15:00:05Z");
  private static final String ORIGINAL_HEADERS =
      "Date: Sat, 28 Nov 2026 15:00:00 +0000\r\n"
          + "From: Ann <ann@example.com>\r\n"
          + "To: good@example.org, bad@example.net\r\n"
          + "Message-ID: <42.abc@postroom.example>\r\n"
          + "Subject: Invoice 42\r\n";

  private final DeliveryReportComposer composer = new DeliveryReportComposer();

  @Test
  void aFailureReportIsMultipartReportWithTextStatusAndOriginalHeaders() {
    Message parsed = parse(composer.toBytes(report(List.of(failed("bad@example.net")))));

    assertThat(parsed.getMimeType()).isEqualTo("multipart/report");
    assertThat(header(parsed, "Content-Type")).contains("report-type=delivery-status");
    assertThat(((Multipart) parsed.getBody()).getBodyParts())
        .extracting(Entity::getMimeType)
        .containsExactly("text/plain", "message/delivery-status", "text/rfc822-headers");
    assertThat(parsed.getSubject()).isEqualTo("Undelivered Mail Returned to Sender");
    assertThat(header(parsed, "Auto-Submitted")).isEqualTo("auto-replied");
    assertThat(parsed.getFrom().get(0).getAddress()).isEqualTo("postmaster@mta.postroom.example");
    assertThat(parsed.getFrom().get(0).getName()).isEqualTo("Mail Delivery System");
    assertThat(parsed.getTo().flatten().get(0).getAddress()).isEqualTo("ann@example.com");
    assertThat(parsed.getMessageId()).isEqualTo("<dsn.42@postroom.example>");
    assertThat(part(parsed, 2)).isEqualTo(ORIGINAL_HEADERS);
  }

  @Test
  void theDeliveryStatusPartCarriesPerMessageAndPerRecipientFields() {
    RecipientReport bad = failed("bad@example.net");
    RecipientReport gone =
        new RecipientReport("gone@example.org", Action.FAILED, "4.4.7", null, null, TRIED, null);
    Message parsed = parse(composer.toBytes(report(List.of(bad, gone))));

    List<Header> groups = fieldGroups(part(parsed, 1));

    assertThat(groups).hasSize(3);
    Header perMessage = groups.get(0);
    assertThat(value(perMessage, "Reporting-MTA")).isEqualTo("dns; mta.postroom.example");
    assertThat(value(perMessage, "Original-Envelope-Id")).isEqualTo("env-42");
    assertThat(value(perMessage, "Arrival-Date")).isEqualTo("Sat, 28 Nov 2026 15:00:00 +0000");
    Header first = groups.get(1);
    assertThat(value(first, "Final-Recipient")).isEqualTo("rfc822; bad@example.net");
    assertThat(value(first, "Action")).isEqualTo("failed");
    assertThat(value(first, "Status")).isEqualTo("5.1.1");
    assertThat(value(first, "Remote-MTA")).isEqualTo("dns; mx.example.net");
    assertThat(value(first, "Diagnostic-Code"))
        .isEqualTo("smtp; 550 5.1.1 <bad@example.net>: no such user");
    assertThat(value(first, "Last-Attempt-Date")).isEqualTo("Sat, 28 Nov 2026 15:00:05 +0000");
    Header second = groups.get(2);
    assertThat(value(second, "Final-Recipient")).isEqualTo("rfc822; gone@example.org");
    assertThat(value(second, "Status")).isEqualTo("4.4.7");
    assertThat(second.getField("Remote-MTA")).isNull();
    assertThat(second.getField("Diagnostic-Code")).isNull();
  }

  @Test
  void theReadableTextSaysWhichRecipientsFailedAndWhy() {
    Message parsed = parse(composer.toBytes(report(List.of(failed("bad@example.net")))));

    assertThat(part(parsed, 0))
        .contains("mta.postroom.example")
        .contains("could not be delivered")
        .contains("<bad@example.net>: failed, status 5.1.1")
        .contains("mx.example.net said: 550 5.1.1 <bad@example.net>: no such user")
        .contains("<42.abc@postroom.example>");
  }

  @Test
  void aDelayWarningIsActionDelayedWithWillRetryUntil() {
    Instant until = Instant.parse("2026-12-03T15:00:00Z");
    RecipientReport slow =
        new RecipientReport(
            "slow@example.org",
            Action.DELAYED,
            "4.2.2",
            "mx.example.org",
            "451 4.2.2 mailbox full",
            TRIED,
            until);

    Message parsed = parse(composer.toBytes(report(List.of(slow))));

    assertThat(parsed.getSubject()).isEqualTo("Delayed Mail (still being retried)");
    Header recipient = fieldGroups(part(parsed, 1)).get(1);
    assertThat(value(recipient, "Action")).isEqualTo("delayed");
    assertThat(value(recipient, "Diagnostic-Code")).isEqualTo("smtp; 451 4.2.2 mailbox full");
    assertThat(value(recipient, "Will-Retry-Until")).isEqualTo("Thu, 3 Dec 2026 15:00:00 +0000");
    assertThat(part(parsed, 0)).contains("not yet been delivered", "Will retry until");
  }

  @Test
  void aNonAsciiRecipientIsWrittenAsAUtf8AddressAndTheStatusPartStays7bit() {
    Message parsed = parse(composer.toBytes(report(List.of(failed("zoë@exämple.org")))));

    Header recipient = fieldGroups(part(parsed, 1)).get(1);
    assertThat(value(recipient, "Final-Recipient")).isEqualTo("utf-8; zo\\x{EB}@ex\\x{E4}mple.org");
    assertThat(part(parsed, 0)).contains("<zoë@exämple.org>: failed");
  }

  @Test
  void aReportNeedsRecipientsAndValidStatusCodes() {
    assertThatThrownBy(() -> report(List.of())).hasMessageContaining("recipients");
    assertThatThrownBy(() ->
            new RecipientReport("a@example.org", Action.FAILED, "550", null, null, null, null))
        .hasMessageContaining("5.1.1");
  }

  private static RecipientReport failed(String address) {
    return new RecipientReport(
        address,
        Action.FAILED,
        "5.1.1",
        "mx.example.net",
        "smtp; 550 5.1.1 <bad@example.net>: no such user",
        TRIED,
        null);
  }

  private static DeliveryReport report(List<RecipientReport> recipients) {
    return new DeliveryReport(
        MailAddress.of("ann@example.com"),
        new MailAddress("postmaster@mta.postroom.example", "Mail Delivery System"),
        "mta.postroom.example",
        "<42.abc@postroom.example>",
        "env-42",
        ORIGINAL_HEADERS,
        ARRIVED,
        recipients,
        "<dsn.42@postroom.example>",
        Instant.parse("2026-11-28T15:00:06Z"));
  }

  private static String part(Message message, int index) {
    Entity part = ((Multipart) message.getBody()).getBodyParts().get(index);
    return part.getBody() instanceof TextBody
        ? text(part)
        : new String(Mime4j.bytes(part), StandardCharsets.US_ASCII);
  }

  /** The delivery-status body as header blocks, each parsed by mime4j. */
  private static List<Header> fieldGroups(String deliveryStatus) {
    List<Header> groups = new ArrayList<>();
    for (String block : deliveryStatus.split("\r\n\r\n")) {
      if (block.isBlank()) {
        continue;
      }
      try {
        groups.add(
            new DefaultMessageBuilder()
                .parseHeader(
                    new ByteArrayInputStream(
                        (block + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII))));
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    return groups;
  }

  private static String value(Header header, String name) {
    return header.getField(name) == null
        ? null
        : header.getField(name).getBody().replaceAll("\r\n(?=[ \t])", "");
  }
}
