package dev.postroom.mime;

import jakarta.mail.internet.MimeUtility;
import java.time.Instant;
import java.util.Locale;

/**
 * The body of a message/delivery-status part (RFC 3464 §2.1): per-message fields, then one block of
 * per-recipient fields each, separated by blank lines. Always 7-bit: a non-ASCII recipient is
 * written as a {@code utf-8} address (RFC 6533 §3), other non-ASCII text is replaced by "?".
 */
final class DeliveryStatusFields {

  /** Longest field value kept; longer diagnostics are cut so no line can pass 998 octets. */
  private static final int LONGEST_VALUE = 900;

  private final StringBuilder text = new StringBuilder();

  private DeliveryStatusFields() {}

  static String of(DeliveryReport report) {
    DeliveryStatusFields fields = new DeliveryStatusFields();
    fields.field("Reporting-MTA", "dns; " + report.reportingMta());
    fields.field("Original-Envelope-Id", report.originalEnvelopeId());
    fields.date("Arrival-Date", report.arrivalDate());
    for (RecipientReport recipient : report.recipients()) {
      fields.text.append("\r\n");
      fields.field("Final-Recipient", address(recipient.finalRecipient()));
      fields.field("Action", recipient.action().name().toLowerCase(Locale.ROOT));
      fields.field("Status", recipient.status());
      fields.field(
          "Remote-MTA", recipient.remoteMta() == null ? null : "dns; " + recipient.remoteMta());
      fields.field("Diagnostic-Code", recipient.diagnosticCode());
      fields.date("Last-Attempt-Date", recipient.lastAttempt());
      fields.date("Will-Retry-Until", recipient.willRetryUntil());
    }
    return fields.text.toString();
  }

  private void date(String name, Instant value) {
    field(name, value == null ? null : HeaderText.date(value));
  }

  private void field(String name, String value) {
    if (value == null) {
      return;
    }
    String ascii = value.replaceAll("[^ -~]", "?");
    if (ascii.length() > LONGEST_VALUE) {
      ascii = ascii.substring(0, LONGEST_VALUE);
    }
    text.append(name)
        .append(": ")
        .append(MimeUtility.fold(name.length() + 2, ascii))
        .append("\r\n");
  }

  /** {@code rfc822; addr} for ASCII, else {@code utf-8; } with RFC 6533 {@code \x{HEX}} escapes. */
  static String address(String address) {
    if (HeaderText.isPrintableAscii(address)) {
      return "rfc822; " + address;
    }
    StringBuilder encoded = new StringBuilder("utf-8; ");
    address
        .codePoints()
        .forEach(c -> {
          if (c > ' ' && c < 0x7f && c != '\\' && c != '+' && c != '=') {
            encoded.append((char) c);
          } else {
            encoded
                .append("\\x{")
                .append(Integer.toHexString(c).toUpperCase(Locale.ROOT))
                .append('}');
          }
        });
    return encoded.toString();
  }
}
