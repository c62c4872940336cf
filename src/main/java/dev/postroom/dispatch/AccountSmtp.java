package dev.postroom.dispatch;

import dev.postroom.outbox.DeliveryAccount;
import dev.postroom.smtp.AuthMechanism;
import dev.postroom.smtp.Credentials;
import dev.postroom.smtp.SmtpEndpoint;
import dev.postroom.smtp.SmtpPool;
import dev.postroom.smtp.SmtpSettings;
import dev.postroom.smtp.Timeouts;
import dev.postroom.smtp.TlsMode;
import java.time.Duration;
import java.util.Locale;

/**
 * The one place that turns a stored account into SMTP client settings, an endpoint and a pool; the
 * dispatcher and {@code postroom account test} both use it, so they cannot disagree.
 */
public final class AccountSmtp {
  static final Duration POOL_MAX_IDLE = Duration.ofSeconds(30);
  static final Duration POOL_MAX_AGE = Duration.ofMinutes(5);
  static final Duration MX_MAX_IDLE = Duration.ofSeconds(5);

  private AccountSmtp() {}

  /**
   * The client settings for {@code account}: its HELO name (else {@code defaultHelo}), TLS
   * verification and trusted CA, and credentials when it has a username.
   *
   * @throws AccountConfigException naming the account and the setting that cannot be used
   */
  public static SmtpSettings settings(
      DeliveryAccount account, String defaultHelo, Timeouts timeouts) {
    String helo = account.heloName() == null ? defaultHelo : account.heloName();
    try {
      SmtpSettings s =
          SmtpSettings.defaults(helo)
              .withTimeouts(timeouts)
              .withTlsVerify(account.tlsVerify())
              .withTrustedCaPem(account.tlsCaPem());
      return account.username() == null ? s : s.withCredentials(credentials(account));
    } catch (IllegalArgumentException e) {
      if (e instanceof AccountConfigException ace) {
        throw ace;
      }
      throw new AccountConfigException(account.name(), e.getMessage(), e);
    }
  }

  /** Where a relay account connects. */
  public static SmtpEndpoint endpoint(DeliveryAccount account) {
    try {
      return new SmtpEndpoint(account.host(), account.port(), tlsMode(account));
    } catch (IllegalArgumentException e) {
      if (e instanceof AccountConfigException ace) {
        throw ace;
      }
      throw new AccountConfigException(account.name(), e.getMessage(), e);
    }
  }

  /**
   * A pool for a relay account: at most its {@code max_connections} sessions in this process, each
   * new one admitted by {@code gate} (the limit shared by all dispatchers).
   */
  static SmtpPool relayPool(
      DeliveryAccount account, SmtpSettings settings, SmtpPool.SessionGate gate) {
    return new SmtpPool(
        endpoint(account), settings, account.maxConnections(), POOL_MAX_IDLE, POOL_MAX_AGE, gate);
  }

  /** A pool for one address of an MX host. */
  static SmtpPool mxPool(
      DeliveryAccount account,
      SmtpEndpoint endpoint,
      SmtpSettings settings,
      SmtpPool.SessionGate gate) {
    return new SmtpPool(
        endpoint, settings, account.maxConnections(), MX_MAX_IDLE, POOL_MAX_AGE, gate);
  }

  static TlsMode tlsMode(DeliveryAccount account) {
    String tls = account.tls() == null ? "starttls_required" : account.tls();
    return switch (tls) {
      case "none" -> TlsMode.NONE;
      case "starttls" -> TlsMode.STARTTLS;
      case "starttls_required" -> TlsMode.STARTTLS_REQUIRED;
      case "implicit" -> TlsMode.IMPLICIT;
      default ->
          throw new AccountConfigException(account.name(), "unknown tls '" + tls + "'", null);
    };
  }

  private static Credentials credentials(DeliveryAccount account) {
    if (account.password() == null) {
      throw new AccountConfigException(
          account.name(),
          "it has a username but no password (set one, or clear the username)",
          null);
    }
    AuthMechanism mechanism;
    try {
      mechanism =
          account.auth() == null
              ? null
              : AuthMechanism.valueOf(account.auth().toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new AccountConfigException(account.name(), "unknown auth '" + account.auth() + "'", e);
    }
    return new Credentials(account.username(), account.password(), mechanism);
  }
}
