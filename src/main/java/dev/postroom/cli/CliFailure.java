package dev.postroom.cli;

/** An operational failure with a message fit for the user as it is; the command exits with 1. */
final class CliFailure extends RuntimeException {
  CliFailure(String message) {
    super(message);
  }

  CliFailure(String message, Throwable cause) {
    super(message, cause);
  }
}
