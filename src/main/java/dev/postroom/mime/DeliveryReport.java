package dev.postroom.mime;

import java.time.Instant;
import java.util.List;
import java.util.Objects;

/**
 * A delivery status notification (RFC 3464) about one mail, covering all its reported recipients.
 * It is sent with a null reverse-path by the caller; nothing here is about the envelope.
 *
 * @param to the original sender, who receives the report
 * @param from the reporting postmaster address
 * @param reportingMta this host's name, for Reporting-MTA
 * @param originalMessageId the reported mail's Message-ID, or null
 * @param originalEnvelopeId the ENVID given at submission, or null
 * @param originalHeaders the reported mail's header block as text, or null to leave it out
 * @param arrivalDate when the reported mail was accepted, or null
 * @param messageId this report's own Message-ID, {@code <left@right>}
 * @param date this report's Date
 */
public record DeliveryReport(
    MailAddress to,
    MailAddress from,
    String reportingMta,
    String originalMessageId,
    String originalEnvelopeId,
    String originalHeaders,
    Instant arrivalDate,
    List<RecipientReport> recipients,
    String messageId,
    Instant date) {

  public DeliveryReport {
    if (to == null || from == null) {
      throw new IllegalArgumentException("to and from must not be null");
    }
    if (reportingMta == null || reportingMta.isBlank() || !reportingMta.matches("[!-~]+")) {
      throw new IllegalArgumentException("reportingMta must be a host name: " + reportingMta);
    }
    HeaderText.requireNoControls("originalMessageId", originalMessageId);
    if (originalEnvelopeId != null && !originalEnvelopeId.matches("[!-~]*")) {
      throw new IllegalArgumentException("originalEnvelopeId must be printable ASCII");
    }
    if (recipients == null
        || recipients.isEmpty()
        || recipients.stream().anyMatch(Objects::isNull)) {
      throw new IllegalArgumentException("recipients must list at least one recipient, no nulls");
    }
    recipients = List.copyOf(recipients);
    if (messageId == null || !messageId.matches("<[!-;=?-~]+@[!-;=?-~]+>")) {
      throw new IllegalArgumentException("messageId must look like <left@right>: " + messageId);
    }
    if (date == null) {
      throw new IllegalArgumentException("date must not be null");
    }
  }
}
