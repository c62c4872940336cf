package dev.postroom.mime;

import jakarta.mail.internet.ContentType;
import jakarta.mail.internet.ParseException;
import java.net.URLConnection;
import java.util.Locale;
import java.util.Map;

/**
 * The Content-Type of an attachment: the given one if it parses and says more than "some bytes"
 * (application/octet-stream, the database's default), else guessed from the file name.
 */
final class ContentTypes {

  static final String OCTET_STREAM = "application/octet-stream";

  /** Types mail programs care most about; the JDK's table covers the rest. */
  private static final Map<String, String> BY_EXTENSION =
      Map.ofEntries(
          Map.entry("csv", "text/csv"),
          Map.entry("txt", "text/plain"),
          Map.entry("log", "text/plain"),
          Map.entry("htm", "text/html"),
          Map.entry("html", "text/html"),
          Map.entry("ics", "text/calendar"),
          Map.entry("json", "application/json"),
          Map.entry("xml", "application/xml"),
          Map.entry("pdf", "application/pdf"),
          Map.entry("zip", "application/zip"),
          Map.entry("gz", "application/gzip"),
          Map.entry("png", "image/png"),
          Map.entry("jpg", "image/jpeg"),
          Map.entry("jpeg", "image/jpeg"),
          Map.entry("gif", "image/gif"),
          Map.entry("webp", "image/webp"),
          Map.entry("svg", "image/svg+xml"),
          Map.entry("eml", "message/rfc822"),
          Map.entry("doc", "application/msword"),
          Map.entry("xls", "application/vnd.ms-excel"),
          Map.entry("ppt", "application/vnd.ms-powerpoint"),
          Map.entry(
              "docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
          Map.entry("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
          Map.entry(
              "pptx", "application/vnd.openxmlformats-officedocument.presentationml.presentation"),
          Map.entry("odt", "application/vnd.oasis.opendocument.text"),
          Map.entry("ods", "application/vnd.oasis.opendocument.spreadsheet"));

  private ContentTypes() {}

  /**
   * The attachment's Content-Type value, without a name parameter (the composer adds it). CSV is
   * labelled UTF-8 unless a charset is given, as Postroom's query results are.
   */
  static String of(AttachmentPart attachment) {
    ContentType type = parse(attachment.contentType());
    if (type == null || type.toString().equalsIgnoreCase(OCTET_STREAM)) {
      type = parse(guess(attachment.filename()));
    }
    if (type.match("text/csv") && type.getParameter("charset") == null) {
      type.setParameter("charset", "UTF-8");
    }
    return type.toString();
  }

  static String guess(String filename) {
    int dot = filename.lastIndexOf('.');
    String extension = dot < 0 ? "" : filename.substring(dot + 1).toLowerCase(Locale.ROOT);
    String known = BY_EXTENSION.get(extension);
    if (known != null) {
      return known;
    }
    String jdk = URLConnection.getFileNameMap().getContentTypeFor(filename);
    return jdk == null ? OCTET_STREAM : jdk;
  }

  private static ContentType parse(String value) {
    if (value == null) {
      return null;
    }
    try {
      ContentType type = new ContentType(value);
      String primary = type.getPrimaryType();
      String sub = type.getSubType();
      return primary == null || primary.isEmpty() || sub == null || sub.isEmpty() ? null : type;
    } catch (ParseException e) {
      return null;
    }
  }
}
