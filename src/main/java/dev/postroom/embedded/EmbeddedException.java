package dev.postroom.embedded;

/** The embedded PostgreSQL could not be started; the message says where and why. */
public final class EmbeddedException extends RuntimeException {
  EmbeddedException(String message, Throwable cause) {
    super(message, cause);
  }
}
