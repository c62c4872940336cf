package dev.postroom.mime;

import java.time.Instant;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Everything that goes into one composed message. Blind-copy recipients are never part of it: they
 * exist only in the SMTP envelope.
 *
 * <p>Null lists and maps count as empty, a null format as TEXT, null importance and sensitivity as
 * NORMAL. Header text (subject, names, extra header values) must not contain CR or LF; extra header
 * names must be valid field names and must not replace a header the composer writes itself.
 *
 * @param headers extra headers, written in the map's iteration order
 * @param messageId the id fixed at enqueue, written exactly as given, e.g. {@code <42.x@host>}
 */
public record MailMessage(
    MailAddress from,
    List<MailAddress> to,
    List<MailAddress> cc,
    List<MailAddress> replyTo,
    String subject,
    String body,
    BodyFormat format,
    Importance importance,
    Sensitivity sensitivity,
    Map<String, String> headers,
    List<AttachmentPart> attachments,
    String messageId,
    Instant date) {

  private static final Pattern MESSAGE_ID = Pattern.compile("<[!-;=?-~]+@[!-;=?-~]+>");
  private static final Pattern FIELD_NAME = Pattern.compile("[!-9;-~]+");

  /**
   * Headers the composer writes itself, plus Bcc and Return-Path, which never belong in a sent
   * message. An extra header may not replace or add to them, nor be any Content-* header.
   * (Importance, X-Priority and Sensitivity may be given: they replace the composer's own.)
   */
  static final Set<String> RESERVED_HEADERS =
      Set.of(
          "from",
          "to",
          "cc",
          "bcc",
          "reply-to",
          "subject",
          "date",
          "message-id",
          "mime-version",
          "return-path");

  public MailMessage {
    if (from == null) {
      throw new IllegalArgumentException("from must not be null");
    }
    to = copy("to", to);
    cc = copy("cc", cc);
    replyTo = copy("replyTo", replyTo);
    HeaderText.requireSingleLine("subject", subject);
    format = format == null ? BodyFormat.TEXT : format;
    importance = importance == null ? Importance.NORMAL : importance;
    sensitivity = sensitivity == null ? Sensitivity.NORMAL : sensitivity;
    headers = copyHeaders(headers);
    attachments = copy("attachments", attachments);
    if (messageId == null || !MESSAGE_ID.matcher(messageId).matches()) {
      throw new IllegalArgumentException("messageId must look like <left@right>: " + messageId);
    }
    if (date == null) {
      throw new IllegalArgumentException("date must not be null");
    }
  }

  private static <T> List<T> copy(String name, List<T> list) {
    if (list == null) {
      return List.of();
    }
    if (list.stream().anyMatch(Objects::isNull)) {
      throw new IllegalArgumentException(name + " must not contain null");
    }
    return List.copyOf(list);
  }

  private static Map<String, String> copyHeaders(Map<String, String> headers) {
    if (headers == null) {
      return Map.of();
    }
    Map<String, String> copy = new LinkedHashMap<>();
    headers.forEach((name, value) -> {
      if (name == null || !FIELD_NAME.matcher(name).matches()) {
        throw new IllegalArgumentException("not a valid header name: " + name);
      }
      String lower = name.toLowerCase(Locale.ROOT);
      if (RESERVED_HEADERS.contains(lower) || lower.startsWith("content-")) {
        throw new IllegalArgumentException(
            "header " + name + " is written by the composer and cannot be set as extra header");
      }
      if (value == null) {
        throw new IllegalArgumentException("header " + name + " has no value");
      }
      HeaderText.requireSingleLine("header " + name, value);
      copy.put(name, value);
    });
    return Collections.unmodifiableMap(copy);
  }
}
