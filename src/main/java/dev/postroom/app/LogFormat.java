package dev.postroom.app;

/** How log lines are written: readable text, or one JSON object a line for log collectors. */
public enum LogFormat {
  TEXT,
  JSON
}
