package dev.postroom.outbox;

/**
 * An SMTP account as the dispatcher needs it, secrets included. {@link #toString()} leaves the
 * password out, so an account can be logged.
 */
public record DeliveryAccount(
    int id,
    String name,
    String host,
    int port,
    String tls,
    boolean tlsVerify,
    String tlsCaPem,
    String username,
    String password,
    String auth,
    String fromAddress,
    String displayName,
    String replyTo,
    String heloName,
    String delivery,
    int maxConnections,
    Integer ratePerMinute) {

  @Override
  public String toString() {
    return "DeliveryAccount["
        + name
        + " "
        + delivery
        + " "
        + host
        + ":"
        + port
        + " tls="
        + tls
        + "]";
  }
}
