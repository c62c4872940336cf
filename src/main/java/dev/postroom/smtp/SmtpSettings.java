package dev.postroom.smtp;

import java.util.Objects;
import java.util.regex.Pattern;

/**
 * How a client behaves, independent of where it connects.
 *
 * @param heloName the name sent with EHLO/HELO: a fully qualified domain name or an address literal
 *     such as {@code [192.0.2.1]} (RFC 5321 §4.1.4)
 * @param tlsVerify verify the server certificate chain and host name (default true)
 * @param trustedCaPem extra trusted CA certificates in PEM, added to the JDK's; null for none
 * @param credentials what to AUTH with; null for no AUTH
 * @param allowAuthWithoutTls permit AUTH over plaintext (only for a trusted local relay)
 * @param maxRecipientsPerTransaction recipients per MAIL transaction; more go into further
 *     transactions on the same connection (RFC 5321 §4.5.3.1.8 guarantees 100)
 */
public record SmtpSettings(
    String heloName,
    Timeouts timeouts,
    boolean tlsVerify,
    String trustedCaPem,
    Credentials credentials,
    boolean allowAuthWithoutTls,
    int maxRecipientsPerTransaction) {

  public static final int DEFAULT_MAX_RECIPIENTS = 100;

  private static final Pattern DOMAIN =
      Pattern.compile(
          "(?i)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*");
  private static final Pattern ADDRESS_LITERAL =
      Pattern.compile("\\[(?:\\d{1,3}(?:\\.\\d{1,3}){3}|IPv6:[0-9A-Fa-f:.]+)]");

  public SmtpSettings {
    Objects.requireNonNull(timeouts, "timeouts");
    if (heloName == null
        || heloName.length() > 255
        || !(DOMAIN.matcher(heloName).matches() || ADDRESS_LITERAL.matcher(heloName).matches())) {
      throw new IllegalArgumentException(
          "heloName must be a domain name or an address literal like [192.0.2.1], got '"
              + heloName
              + "'");
    }
    if (maxRecipientsPerTransaction < 1) {
      throw new IllegalArgumentException(
          "maxRecipientsPerTransaction must be at least 1, got " + maxRecipientsPerTransaction);
    }
    if (trustedCaPem != null && !trustedCaPem.contains("-----BEGIN CERTIFICATE-----")) {
      throw new IllegalArgumentException("trustedCaPem holds no PEM certificate");
    }
  }

  /** RFC and Postfix defaults, certificate verification on, no AUTH. */
  public static SmtpSettings defaults(String heloName) {
    return new SmtpSettings(
        heloName, Timeouts.defaults(), true, null, null, false, DEFAULT_MAX_RECIPIENTS);
  }

  public SmtpSettings withTimeouts(Timeouts value) {
    return new SmtpSettings(
        heloName,
        value,
        tlsVerify,
        trustedCaPem,
        credentials,
        allowAuthWithoutTls,
        maxRecipientsPerTransaction);
  }

  public SmtpSettings withTlsVerify(boolean value) {
    return new SmtpSettings(
        heloName,
        timeouts,
        value,
        trustedCaPem,
        credentials,
        allowAuthWithoutTls,
        maxRecipientsPerTransaction);
  }

  public SmtpSettings withTrustedCaPem(String value) {
    return new SmtpSettings(
        heloName,
        timeouts,
        tlsVerify,
        value,
        credentials,
        allowAuthWithoutTls,
        maxRecipientsPerTransaction);
  }

  public SmtpSettings withCredentials(Credentials value) {
    return new SmtpSettings(
        heloName,
        timeouts,
        tlsVerify,
        trustedCaPem,
        value,
        allowAuthWithoutTls,
        maxRecipientsPerTransaction);
  }

  public SmtpSettings withAllowAuthWithoutTls(boolean value) {
    return new SmtpSettings(
        heloName,
        timeouts,
        tlsVerify,
        trustedCaPem,
        credentials,
        value,
        maxRecipientsPerTransaction);
  }

  public SmtpSettings withMaxRecipientsPerTransaction(int value) {
    return new SmtpSettings(
        heloName, timeouts, tlsVerify, trustedCaPem, credentials, allowAuthWithoutTls, value);
  }

  @Override
  public String toString() {
    return "SmtpSettings[heloName="
        + heloName
        + ", tlsVerify="
        + tlsVerify
        + ", extraCa="
        + (trustedCaPem != null)
        + ", credentials="
        + credentials
        + ", allowAuthWithoutTls="
        + allowAuthWithoutTls
        + ", maxRecipientsPerTransaction="
        + maxRecipientsPerTransaction
        + "]";
  }
}
