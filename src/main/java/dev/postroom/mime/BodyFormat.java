package dev.postroom.mime;

/** How {@link MailMessage#body()} is to be read: plain text, or HTML (sent with a text version). */
public enum BodyFormat {
  TEXT,
  HTML
}
