package dev.postroom.mime;

import dev.postroom.mime.RecipientReport.Action;
import java.util.List;
import java.util.Locale;

/** The human-readable first part of a delivery status notification, and its subject. */
final class DeliveryReportText {

  private DeliveryReportText() {}

  static String subject(DeliveryReport report) {
    if (has(report, Action.FAILED)) {
      return "Undelivered Mail Returned to Sender";
    }
    if (has(report, Action.DELAYED)) {
      return "Delayed Mail (still being retried)";
    }
    return "Delivery Status Notification";
  }

  static String body(DeliveryReport report) {
    StringBuilder text = new StringBuilder();
    text.append("This is the mail system at host ").append(report.reportingMta()).append(".\n\n");
    List<RecipientReport> failed = with(report, Action.FAILED);
    List<RecipientReport> delayed = with(report, Action.DELAYED);
    List<RecipientReport> other =
        report.recipients().stream()
            .filter(r -> r.action() != Action.FAILED && r.action() != Action.DELAYED)
            .toList();
    if (!failed.isEmpty()) {
      text.append("Your message could not be delivered to the following recipients.\n")
          .append("No further attempts will be made for them.\n\n");
      recipients(text, failed);
    }
    if (!delayed.isEmpty()) {
      text.append("Your message has not yet been delivered to the following recipients.\n")
          .append("Delivery is still being attempted; you do not need to resend it.\n\n");
      recipients(text, delayed);
    }
    if (!other.isEmpty()) {
      text.append("Delivery status of the other recipients:\n\n");
      recipients(text, other);
    }
    if (report.originalMessageId() != null) {
      text.append("The message concerned has Message-ID ")
          .append(report.originalMessageId())
          .append(".\n");
    }
    if (report.originalHeaders() != null) {
      text.append("Its headers are attached.\n");
    }
    return text.toString();
  }

  private static void recipients(StringBuilder text, List<RecipientReport> recipients) {
    for (RecipientReport recipient : recipients) {
      text.append("<")
          .append(recipient.finalRecipient())
          .append(">: ")
          .append(recipient.action().name().toLowerCase(Locale.ROOT))
          .append(", status ")
          .append(recipient.status())
          .append('\n');
      if (recipient.diagnosticText() != null) {
        text.append("    ")
            .append(recipient.remoteMta() == null ? "The server" : recipient.remoteMta())
            .append(" said: ")
            .append(recipient.diagnosticText())
            .append('\n');
      }
      if (recipient.lastAttempt() != null) {
        text.append("    Last attempt: ")
            .append(HeaderText.date(recipient.lastAttempt()))
            .append('\n');
      }
      if (recipient.willRetryUntil() != null) {
        text.append("    Will retry until: ")
            .append(HeaderText.date(recipient.willRetryUntil()))
            .append('\n');
      }
      text.append('\n');
    }
  }

  private static boolean has(DeliveryReport report, Action action) {
    return report.recipients().stream().anyMatch(r -> r.action() == action);
  }

  private static List<RecipientReport> with(DeliveryReport report, Action action) {
    return report.recipients().stream().filter(r -> r.action() == action).toList();
  }
}
