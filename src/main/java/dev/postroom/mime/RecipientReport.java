package dev.postroom.mime;

import java.time.Instant;
import java.util.regex.Pattern;

/**
 * What happened to one recipient, as reported in a delivery status notification (RFC 3464 §2.3).
 *
 * @param finalRecipient the address the delivery was attempted to
 * @param status the enhanced status code (RFC 3463), e.g. {@code 5.1.1} or {@code 4.4.7}
 * @param remoteMta the host that gave the decisive answer, or null
 * @param diagnosticCode the reply, e.g. {@code smtp; 550 5.1.1 no such user}, or null; without a
 *     {@code type;} prefix it is taken as an SMTP reply
 * @param lastAttempt when delivery was last tried, or null
 * @param willRetryUntil for DELAYED: when attempts stop, or null
 */
public record RecipientReport(
    String finalRecipient,
    Action action,
    String status,
    String remoteMta,
    String diagnosticCode,
    Instant lastAttempt,
    Instant willRetryUntil) {

  private static final Pattern STATUS = Pattern.compile("[245]\\.\\d{1,3}\\.\\d{1,3}");
  private static final Pattern TYPED = Pattern.compile("[A-Za-z][A-Za-z0-9-]*;.*");

  /** The Action field (RFC 3464 §2.3.3). */
  public enum Action {
    FAILED,
    DELAYED,
    DELIVERED,
    RELAYED,
    EXPANDED
  }

  public RecipientReport {
    if (finalRecipient == null || finalRecipient.isBlank()) {
      throw new IllegalArgumentException("finalRecipient must not be blank");
    }
    HeaderText.requireNoControls("finalRecipient", finalRecipient);
    if (action == null) {
      throw new IllegalArgumentException("action must not be null");
    }
    if (status == null || !STATUS.matcher(status).matches()) {
      throw new IllegalArgumentException(
          "status must be an enhanced status code like 5.1.1: " + status);
    }
    if (remoteMta != null && remoteMta.isBlank()) {
      remoteMta = null;
    }
    HeaderText.requireNoControls("remoteMta", remoteMta);
    if (diagnosticCode != null) {
      diagnosticCode = diagnosticCode.strip().replaceAll("[\\r\\n\\t]+", " ");
      if (diagnosticCode.isEmpty()) {
        diagnosticCode = null;
      } else if (!TYPED.matcher(diagnosticCode).matches()) {
        diagnosticCode = "smtp; " + diagnosticCode;
      }
    }
  }

  /** The diagnostic without its type prefix, e.g. {@code 550 5.1.1 no such user}; or null. */
  String diagnosticText() {
    return diagnosticCode == null
        ? null
        : diagnosticCode.substring(diagnosticCode.indexOf(';') + 1).strip();
  }
}
