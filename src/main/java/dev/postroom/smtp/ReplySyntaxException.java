package dev.postroom.smtp;

import java.io.IOException;

/** A reply that breaks RFC 5321 §4.2 syntax or the client's size limits. */
class ReplySyntaxException extends IOException {
  ReplySyntaxException(String message) {
    super(message);
  }
}
