package dev.postroom.mime;

/** The sender's importance flag, shown by mail programs as a priority marker. */
public enum Importance {
  LOW,
  NORMAL,
  HIGH
}
