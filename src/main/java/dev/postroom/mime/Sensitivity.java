package dev.postroom.mime;

/** The RFC 2156 Sensitivity flag, as Outlook shows and sets it. */
public enum Sensitivity {
  NORMAL,
  PERSONAL,
  PRIVATE,
  CONFIDENTIAL
}
