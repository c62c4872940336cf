package dev.postroom.smtp;

/** The protocol step a reply (or a failure) belongs to. */
public enum Stage {
  CONNECT,
  GREETING,
  EHLO,
  STARTTLS,
  AUTH,
  MAIL,
  RCPT,
  DATA,
  DATA_END,
  RSET,
  QUIT,
  NOOP,
  VRFY,
  EXPN,
  HELP
}
