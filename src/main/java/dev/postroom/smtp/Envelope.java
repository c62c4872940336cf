package dev.postroom.smtp;

import java.util.List;

/**
 * Who a message is from and to, as given to MAIL FROM and RCPT TO (addresses without angle
 * brackets). Control characters, CR, LF, NUL and angle brackets are refused here, before any byte
 * could reach a server (command injection).
 *
 * @param reversePath the sender address; {@code ""} is the null reverse-path {@code <>}, used for
 *     bounces
 * @param recipients at least one address; duplicates are sent as given
 * @param dsn DSN parameters or null
 */
public record Envelope(String reversePath, List<String> recipients, DsnRequest dsn) {
  public Envelope {
    if (reversePath == null) {
      throw new IllegalArgumentException("reversePath must not be null (use \"\" for <>)");
    }
    if (!reversePath.isEmpty()) {
      Addresses.check("reverse path", reversePath);
    }
    if (recipients == null || recipients.isEmpty()) {
      throw new IllegalArgumentException("an envelope needs at least one recipient");
    }
    recipients = List.copyOf(recipients);
    for (String r : recipients) {
      Addresses.check("recipient", r);
    }
  }

  /**
   * Why {@code address} cannot go on a MAIL or RCPT command line (spaces, angle brackets, control
   * characters, no {@code @}), or null when it can.
   */
  public static String problem(String address) {
    try {
      Addresses.check("address", address);
      return null;
    } catch (IllegalArgumentException e) {
      return e.getMessage();
    }
  }

  public Envelope(String reversePath, List<String> recipients) {
    this(reversePath, recipients, null);
  }

  @Override
  public String toString() {
    return "Envelope[from=<" + reversePath + ">, recipients=" + recipients.size() + "]";
  }
}
