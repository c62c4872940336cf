package dev.postroom.outbox;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * One mail to enqueue, mapping one to one onto the parameters of {@code mail.send}. Null means "the
 * SQL default". The database validates everything (addresses, header values, sizes), so a mail that
 * builds here may still be refused by {@link Outbox#send}.
 */
public record OutgoingMail(
    String recipients,
    String subject,
    String body,
    BodyFormat bodyFormat,
    String profileName,
    String copyRecipients,
    String blindCopyRecipients,
    String fromAddress,
    String replyTo,
    Importance importance,
    Sensitivity sensitivity,
    Map<String, String> headers,
    List<Attachment> attachments,
    Instant sendAt,
    int priority,
    String idempotencyKey) {

  public OutgoingMail {
    bodyFormat = Objects.requireNonNullElse(bodyFormat, BodyFormat.TEXT);
    importance = Objects.requireNonNullElse(importance, Importance.NORMAL);
    sensitivity = Objects.requireNonNullElse(sensitivity, Sensitivity.NORMAL);
    headers =
        headers == null ? Map.of() : Collections.unmodifiableMap(new LinkedHashMap<>(headers));
    attachments = attachments == null ? List.of() : List.copyOf(attachments);
  }

  public static Builder builder() {
    return new Builder();
  }

  public enum BodyFormat {
    TEXT,
    HTML;

    String sql() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  public enum Importance {
    LOW,
    NORMAL,
    HIGH;

    String sql() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  public enum Sensitivity {
    NORMAL,
    PERSONAL,
    PRIVATE,
    CONFIDENTIAL;

    String sql() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  /**
   * A file to attach, as {@code mail.attachment_in}; a null content type means
   * application/octet-stream. (Inline parts with a Content-ID are added with {@code mail.attach}.)
   */
  public record Attachment(String filename, String contentType, byte[] content) {
    public Attachment {
      Objects.requireNonNull(filename, "filename");
      Objects.requireNonNull(content, "content");
      content = content.clone();
    }

    @Override
    public byte[] content() {
      return content.clone();
    }
  }

  /** Collects the fields of an {@link OutgoingMail}; every setter replaces the previous value. */
  public static final class Builder {
    private String recipients;
    private String subject;
    private String body;
    private BodyFormat bodyFormat = BodyFormat.TEXT;
    private String profileName;
    private String copyRecipients;
    private String blindCopyRecipients;
    private String fromAddress;
    private String replyTo;
    private Importance importance = Importance.NORMAL;
    private Sensitivity sensitivity = Sensitivity.NORMAL;
    private final Map<String, String> headers = new LinkedHashMap<>();
    private final List<Attachment> attachments = new ArrayList<>();
    private Instant sendAt;
    private int priority;
    private String idempotencyKey;

    private Builder() {}

    /** The To list: {@code ;} or {@code ,} separated, {@code Name <addr>} allowed. */
    public Builder recipients(String recipients) {
      this.recipients = recipients;
      return this;
    }

    public Builder subject(String subject) {
      this.subject = subject;
      return this;
    }

    public Builder body(String body) {
      this.body = body;
      return this;
    }

    public Builder bodyFormat(BodyFormat bodyFormat) {
      this.bodyFormat = bodyFormat;
      return this;
    }

    /** The profile to send from; null (the default) means the default profile. */
    public Builder profileName(String profileName) {
      this.profileName = profileName;
      return this;
    }

    public Builder copyRecipients(String copyRecipients) {
      this.copyRecipients = copyRecipients;
      return this;
    }

    public Builder blindCopyRecipients(String blindCopyRecipients) {
      this.blindCopyRecipients = blindCopyRecipients;
      return this;
    }

    public Builder fromAddress(String fromAddress) {
      this.fromAddress = fromAddress;
      return this;
    }

    public Builder replyTo(String replyTo) {
      this.replyTo = replyTo;
      return this;
    }

    public Builder importance(Importance importance) {
      this.importance = importance;
      return this;
    }

    public Builder sensitivity(Sensitivity sensitivity) {
      this.sensitivity = sensitivity;
      return this;
    }

    /**
     * Adds an extra header; headers Postroom owns (From, To, Content-*, ...) are refused at send.
     */
    public Builder header(String name, String value) {
      headers.put(name, value);
      return this;
    }

    public Builder attachment(Attachment attachment) {
      attachments.add(Objects.requireNonNull(attachment, "attachment"));
      return this;
    }

    public Builder attachment(String filename, String contentType, byte[] content) {
      return attachment(new Attachment(filename, contentType, content));
    }

    /** Not before this time. */
    public Builder sendAt(Instant sendAt) {
      this.sendAt = sendAt;
      return this;
    }

    /** Higher goes first; 0 by default. */
    public Builder priority(int priority) {
      this.priority = priority;
      return this;
    }

    /** A repeated key returns the first mail's id and enqueues nothing. */
    public Builder idempotencyKey(String idempotencyKey) {
      this.idempotencyKey = idempotencyKey;
      return this;
    }

    public OutgoingMail build() {
      return new OutgoingMail(
          recipients,
          subject,
          body,
          bodyFormat,
          profileName,
          copyRecipients,
          blindCopyRecipients,
          fromAddress,
          replyTo,
          importance,
          sensitivity,
          headers,
          attachments,
          sendAt,
          priority,
          idempotencyKey);
    }
  }
}
