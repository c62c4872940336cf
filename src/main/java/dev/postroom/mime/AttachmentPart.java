package dev.postroom.mime;

/**
 * One attached file.
 *
 * @param filename the name shown to the recipient (any Unicode; encoded per RFC 2231)
 * @param contentType the MIME type, or null to guess it from the file name; an unparsable type and
 *     a bare application/octet-stream are also replaced by the guess
 * @param contentId the Content-ID (with or without angle brackets) that HTML refers to as {@code
 *     cid:}, or null. Set, it makes the attachment an inline part of a multipart/related body. An
 *     attachment without one is also inline when the HTML body refers to {@code cid:<filename>}.
 * @param content the bytes, read while the message is written
 */
public record AttachmentPart(
    String filename, String contentType, String contentId, ContentSource content) {

  public AttachmentPart {
    if (filename == null || filename.isBlank()) {
      throw new IllegalArgumentException("filename must not be blank");
    }
    HeaderText.requireNoControls("filename", filename);
    if (contentType != null && contentType.isBlank()) {
      contentType = null;
    }
    HeaderText.requireSingleLine("contentType", contentType);
    if (contentId != null) {
      contentId = contentId.strip();
      if (contentId.startsWith("<") && contentId.endsWith(">")) {
        contentId = contentId.substring(1, contentId.length() - 1);
      }
      if (contentId.isEmpty()) {
        contentId = null;
      }
    }
    HeaderText.requireNoControls("contentId", contentId);
    if (content == null) {
      throw new IllegalArgumentException("content must not be null for " + filename);
    }
  }
}
