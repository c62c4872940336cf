package dev.postroom.dispatch;

import dev.postroom.dkim.DkimSigner;
import dev.postroom.mime.AttachmentPart;
import dev.postroom.mime.BodyFormat;
import dev.postroom.mime.ContentSource;
import dev.postroom.mime.DeliveryReport;
import dev.postroom.mime.DeliveryReportComposer;
import dev.postroom.mime.Importance;
import dev.postroom.mime.MailAddress;
import dev.postroom.mime.MailMessage;
import dev.postroom.mime.MessageComposer;
import dev.postroom.mime.RecipientReport;
import dev.postroom.mime.Sensitivity;
import dev.postroom.outbox.ClaimedMail;
import dev.postroom.outbox.DeliveryAccount;
import dev.postroom.outbox.DeliveryAttachment;
import dev.postroom.outbox.DeliveryRecipient;
import dev.postroom.outbox.ReportedMail;
import dev.postroom.smtp.MessageContent;
import dev.postroom.unsubscribe.UnsubscribeLinks;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * Turns a claimed mail into the bytes that go after DATA. The Date header is the enqueue time and
 * the Message-ID the one fixed at enqueue, so every attempt sends the same message. With a signer,
 * messages (delivery status notifications too) are DKIM-signed once their final bytes are known;
 * with links, list mail gets its List-Unsubscribe headers.
 */
final class MessageFactory {
  private static final SecureRandom RANDOM = new SecureRandom();

  private final MessageComposer composer = new MessageComposer();
  private final DeliveryReportComposer reports = new DeliveryReportComposer();
  private final DkimSigner signer;
  private final UnsubscribeLinks links;

  /** Neither signs nor adds unsubscribe headers. */
  MessageFactory() {
    this(null, null);
  }

  MessageFactory(DkimSigner signer, UnsubscribeLinks links) {
    this.signer = signer;
    this.links = links;
  }

  /** Attachments up to this total are composed in memory; larger ones stream per write. */
  static final long IN_MEMORY_LIMIT = 1 << 20;

  /**
   * The message content of a claimed mail. Small mail is composed once into memory; mail with large
   * attachments is composed while it is written, reading each attachment from {@code
   * attachmentData} in chunks, so memory stays bounded whatever the attachment sizes.
   *
   * @throws IllegalArgumentException when the mail cannot be composed
   */
  MessageContent content(
      ClaimedMail mail,
      List<DeliveryRecipient> recipients,
      List<DeliveryAttachment> attachments,
      DeliveryAccount account,
      Function<DeliveryAttachment, InputStream> attachmentData) {
    MailMessage message = message(mail, recipients, attachments, account, attachmentData);
    long attached = attachments.stream().mapToLong(DeliveryAttachment::size).sum();
    if (attached <= IN_MEMORY_LIMIT) {
      return sign(MessageContent.of(composer.toBytes(message)), mail);
    }
    // every write must produce the same octets (the DKIM signature covers them): fixed boundaries
    String seed = seed();
    Supplier<MessageComposer> composer = () -> new MessageComposer(boundaries(seed));
    long size = composer.get().size(message);
    return sign(
        new MessageContent() {
          @Override
          public long size() {
            return size;
          }

          @Override
          public boolean eightBit() {
            return false;
          }

          @Override
          public void writeTo(OutputStream out) throws IOException {
            try {
              composer.get().writeTo(message, out);
            } catch (RuntimeException e) {
              throw new IOException("the message cannot be composed: " + e.getMessage(), e);
            }
          }

          @Override
          public String toString() {
            return "MessageContent[mail " + mail.id() + ", about " + size + " octets, streamed]";
          }
        },
        mail);
  }

  private static String seed() {
    byte[] bytes = new byte[11];
    RANDOM.nextBytes(bytes);
    return HexFormat.of().formatHex(bytes);
  }

  /** Boundaries of the default's length, the same sequence on every call of the supplier's user. */
  private static Supplier<String> boundaries(String seed) {
    int[] next = {0};
    return () -> "=_postroom_" + seed + "_" + (next[0]++ % 10);
  }

  private MessageContent sign(MessageContent content, ClaimedMail mail) {
    return signer == null ? content : signer.signOrKeep(content, "mail " + mail.id());
  }

  /** The mail's extra headers, plus the one-click unsubscribe ones for list mail. */
  private Map<String, String> headers(ClaimedMail mail, List<DeliveryRecipient> recipients) {
    if (!mail.listUnsubscribe()
        || links == null
        || recipients.isEmpty()
        || mail.profileId() == null) {
      return mail.headers();
    }
    Map<String, String> headers = new LinkedHashMap<>();
    mail.headers()
        .forEach((name, value) -> {
          if (!name.equalsIgnoreCase("List-Unsubscribe")
              && !name.equalsIgnoreCase("List-Unsubscribe-Post")) {
            headers.put(name, value);
          }
        });
    headers.putAll(links.headers(mail.profileId(), mail.id(), recipients.get(0).address()));
    return headers;
  }

  MailMessage message(
      ClaimedMail mail,
      List<DeliveryRecipient> recipients,
      List<DeliveryAttachment> attachments,
      DeliveryAccount account,
      Function<DeliveryAttachment, InputStream> attachmentData) {
    if (mail.templateError() != null) {
      throw new IllegalArgumentException(mail.templateError());
    }
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
        headers(mail, recipients),
        attachments.stream()
            .map(a ->
                new AttachmentPart(
                    a.filename(), a.contentType(), a.contentId(), source(a, attachmentData)))
            .toList(),
        mail.messageId(),
        mail.createdAt());
  }

  private static ContentSource source(
      DeliveryAttachment a, Function<DeliveryAttachment, InputStream> data) {
    return new ContentSource() {
      @Override
      public InputStream open() {
        return data.apply(a);
      }

      @Override
      public long size() {
        return a.size();
      }
    };
  }

  /**
   * The RFC 3464 report of a notification mail: to the original sender, from the account's address,
   * one entry per failed recipient of the reported mail.
   */
  MessageContent report(ClaimedMail notification, ReportedMail reported, DeliveryAccount account) {
    return sign(MessageContent.of(reportBytes(notification, reported, account)), notification);
  }

  private byte[] reportBytes(
      ClaimedMail notification, ReportedMail reported, DeliveryAccount account) {
    String reportingMta =
        account.heloName() != null ? account.heloName() : dev.postroom.smtp.HeloName.ofThisHost();
    List<RecipientReport> entries =
        reported.recipients().stream().map(r -> entry(r, reported)).toList();
    StringBuilder headers = new StringBuilder();
    headers.append("Message-ID: ").append(reported.messageId()).append("\r\n");
    if (reported.sender() != null) {
      headers.append("From: ").append(parse(reported.sender()).address()).append("\r\n");
    }
    if (reported.subject() != null
        && reported.subject().chars().allMatch(c -> c >= 32 && c < 127)) {
      headers.append("Subject: ").append(reported.subject()).append("\r\n");
    }
    return reports.toBytes(
        new DeliveryReport(
            parse(reported.sender()),
            new MailAddress(account.fromAddress(), "Mail Delivery System"),
            reportingMta,
            reported.messageId(),
            null,
            headers.toString(),
            reported.createdAt(),
            entries,
            notification.messageId(),
            notification.createdAt()));
  }

  private static RecipientReport entry(ReportedMail.Recipient r, ReportedMail reported) {
    String status =
        r.expired()
            ? "4.4.7"
            : r.enhancedCode() != null
                ? r.enhancedCode()
                : (r.replyCode() != null && r.replyCode() < 500 ? "4.0.0" : "5.0.0");
    String diagnostic =
        r.replyCode() == null
            ? null
            : "smtp; "
                + r.replyCode()
                + (r.enhancedCode() == null ? "" : " " + r.enhancedCode())
                + " "
                + nullToEmpty(r.replyText());
    return new RecipientReport(
        r.address(),
        reported.delay() ? RecipientReport.Action.DELAYED : RecipientReport.Action.FAILED,
        status,
        remoteMta(r.remoteHost()),
        diagnostic,
        r.lastAttempt(),
        reported.delay() ? reported.expiresAt() : null);
  }

  private static String remoteMta(String remoteHost) {
    if (remoteHost == null) {
      return null;
    }
    int space = remoteHost.indexOf(' ');
    return "dns; " + (space > 0 ? remoteHost.substring(0, space) : remoteHost);
  }

  private static String nullToEmpty(String s) {
    return s == null ? "" : s;
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
