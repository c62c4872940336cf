package dev.postroom.dispatch;

import dev.postroom.mime.AttachmentPart;
import dev.postroom.mime.BodyFormat;
import dev.postroom.mime.ContentSource;
import dev.postroom.mime.Importance;
import dev.postroom.mime.MailAddress;
import dev.postroom.mime.MailMessage;
import dev.postroom.mime.MessageComposer;
import dev.postroom.mime.Sensitivity;
import dev.postroom.outbox.ClaimedMail;
import dev.postroom.outbox.DeliveryAccount;
import dev.postroom.outbox.DeliveryAttachment;
import dev.postroom.outbox.DeliveryRecipient;
import java.util.List;
import java.util.Locale;

/**
 * Turns a claimed mail into the bytes that go after DATA. The Date header is the enqueue time and
 * the Message-ID the one fixed at enqueue, so every attempt sends the same message.
 */
final class MessageFactory {
  private final MessageComposer composer = new MessageComposer();

  byte[] compose(
      ClaimedMail mail,
      List<DeliveryRecipient> recipients,
      List<DeliveryAttachment> attachments,
      DeliveryAccount account) {
    return composer.toBytes(message(mail, recipients, attachments, account));
  }

  MailMessage message(
      ClaimedMail mail,
      List<DeliveryRecipient> recipients,
      List<DeliveryAttachment> attachments,
      DeliveryAccount account) {
    return new MailMessage(
        from(mail, account),
        addresses(recipients, "to"),
        addresses(recipients, "cc"),
        replyTo(mail, account),
        mail.subject(),
        mail.body(),
        mail.bodyFormat() == null
            ? BodyFormat.TEXT
            : BodyFormat.valueOf(mail.bodyFormat().toUpperCase(Locale.ROOT)),
        mail.importance() == null
            ? Importance.NORMAL
            : Importance.valueOf(mail.importance().toUpperCase(Locale.ROOT)),
        mail.sensitivity() == null
            ? Sensitivity.NORMAL
            : Sensitivity.valueOf(mail.sensitivity().toUpperCase(Locale.ROOT)),
        mail.headers(),
        attachments.stream()
            .map(a ->
                new AttachmentPart(
                    a.filename(), a.contentType(), a.contentId(), ContentSource.of(a.content())))
            .toList(),
        mail.messageId(),
        mail.createdAt());
  }

  /** The address the mail is from: the mail's own, else its account's. */
  static MailAddress from(ClaimedMail mail, DeliveryAccount account) {
    if (mail.fromAddress() != null) {
      return parse(mail.fromAddress());
    }
    return new MailAddress(account.fromAddress(), account.displayName());
  }

  /** The SMTP reverse-path: empty (the null path) for delivery status notifications. */
  static String reversePath(ClaimedMail mail, DeliveryAccount account) {
    return mail.isNotification() ? "" : from(mail, account).address();
  }

  private static List<MailAddress> replyTo(ClaimedMail mail, DeliveryAccount account) {
    String value = mail.replyTo() != null ? mail.replyTo() : account.replyTo();
    return value == null ? List.of() : List.of(parse(value));
  }

  private static List<MailAddress> addresses(List<DeliveryRecipient> recipients, String kind) {
    return recipients.stream()
        .filter(r -> r.kind().equals(kind))
        .map(r -> new MailAddress(r.address(), r.displayName()))
        .toList();
  }

  /** Accepts {@code addr}, {@code <addr>} and {@code Name <addr>} (validated at enqueue). */
  static MailAddress parse(String value) {
    String v = value.trim();
    int lt = v.lastIndexOf('<');
    if (lt >= 0 && v.endsWith(">")) {
      String name = v.substring(0, lt).trim();
      if (name.length() >= 2 && name.startsWith("\"") && name.endsWith("\"")) {
        name = name.substring(1, name.length() - 1);
      }
      return new MailAddress(
          v.substring(lt + 1, v.length() - 1).trim(), name.isEmpty() ? null : name);
    }
    return new MailAddress(v, null);
  }
}
