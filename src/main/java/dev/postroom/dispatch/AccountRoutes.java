package dev.postroom.dispatch;

import dev.postroom.outbox.DeliveryAccount;
import dev.postroom.smtp.AuthMechanism;
import dev.postroom.smtp.Credentials;
import dev.postroom.smtp.HeloName;
import dev.postroom.smtp.SmtpEndpoint;
import dev.postroom.smtp.SmtpPool;
import dev.postroom.smtp.SmtpSettings;
import dev.postroom.smtp.TlsMode;
import java.net.InetAddress;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The accounts of every profile, and for each relay account a connection pool (at most its {@code
 * max_connections}) and a rate limiter. Refreshed from the database periodically; an account whose
 * settings changed gets a new pool.
 */
final class AccountRoutes implements AutoCloseable {
  static final Duration POOL_MAX_IDLE = Duration.ofSeconds(30);
  static final Duration POOL_MAX_AGE = Duration.ofMinutes(5);
  static final Duration MX_MAX_IDLE = Duration.ofSeconds(5);

  private final Clock clock;
  private final String defaultHeloName = HeloName.ofThisHost();
  private volatile Map<Integer, List<DeliveryAccount>> byProfile = Map.of();
  private final Map<Integer, Route> routes = new ConcurrentHashMap<>();
  private final Map<String, SmtpPool> mxPools = new ConcurrentHashMap<>();

  /** A relay account's pool and limiter, as built from one version of its settings. */
  record Route(DeliveryAccount account, SmtpPool pool, RateLimiter limiter) {}

  AccountRoutes(Clock clock) {
    this.clock = clock;
  }

  void refresh(Map<Integer, List<DeliveryAccount>> accountsByProfile) {
    byProfile = Map.copyOf(accountsByProfile);
  }

  /** The profile's accounts in failover order (empty for an unknown profile). */
  List<DeliveryAccount> accountsFor(Integer profileId) {
    return profileId == null ? List.of() : byProfile.getOrDefault(profileId, List.of());
  }

  Route route(DeliveryAccount account) {
    Route current = routes.get(account.id());
    if (current != null && current.account().equals(account)) {
      return current;
    }
    synchronized (routes) {
      current = routes.get(account.id());
      if (current != null && current.account().equals(account)) {
        return current;
      }
      Route fresh =
          new Route(
              account,
              new SmtpPool(
                  new SmtpEndpoint(account.host(), account.port(), tlsMode(account.tls())),
                  settings(account),
                  account.maxConnections(),
                  POOL_MAX_IDLE,
                  POOL_MAX_AGE),
              account.ratePerMinute() == null
                  ? null
                  : new RateLimiter(account.ratePerMinute(), clock));
      routes.put(account.id(), fresh);
      if (current != null) {
        current.pool().close();
      }
      return fresh;
    }
  }

  /**
   * The pool for one address of an MX host, shared by every mail this account sends there: at most
   * the account's {@code max_connections} to one host. With verified TLS the host is reached by
   * name so its certificate can be checked; otherwise by the address the resolver gave.
   */
  SmtpPool mxPool(DeliveryAccount account, String hostName, InetAddress address, int port) {
    TlsMode mode = tlsMode(account.tls());
    boolean verify = account.tlsVerify() && mode != TlsMode.STARTTLS && mode != TlsMode.NONE;
    String host = verify ? hostName : address.getHostAddress();
    String key = account.id() + "|" + host + "|" + port + "|" + account.hashCode();
    return mxPools.computeIfAbsent(
        key,
        k -> {
          SmtpSettings s = settings(account);
          SmtpSettings mx =
              new SmtpSettings(
                  s.heloName(),
                  s.timeouts(),
                  verify,
                  s.trustedCaPem(),
                  s.credentials(),
                  s.allowAuthWithoutTls(),
                  s.maxRecipientsPerTransaction());
          return new SmtpPool(
              new SmtpEndpoint(host, port, mode),
              mx,
              account.maxConnections(),
              MX_MAX_IDLE,
              POOL_MAX_AGE);
        });
  }

  SmtpSettings settings(DeliveryAccount account) {
    String helo = account.heloName() == null ? defaultHeloName : account.heloName();
    SmtpSettings s = SmtpSettings.defaults(helo);
    Credentials credentials =
        account.username() == null
            ? null
            : new Credentials(account.username(), account.password(), mechanism(account.auth()));
    return new SmtpSettings(
        helo,
        s.timeouts(),
        account.tlsVerify(),
        account.tlsCaPem(),
        credentials,
        s.allowAuthWithoutTls(),
        s.maxRecipientsPerTransaction());
  }

  static TlsMode tlsMode(String tls) {
    return switch (tls == null ? "starttls_required" : tls) {
      case "none" -> TlsMode.NONE;
      case "starttls" -> TlsMode.STARTTLS;
      case "starttls_required" -> TlsMode.STARTTLS_REQUIRED;
      case "implicit" -> TlsMode.IMPLICIT;
      default -> throw new IllegalArgumentException("unknown tls mode '" + tls + "'");
    };
  }

  static AuthMechanism mechanism(String auth) {
    return auth == null ? null : AuthMechanism.valueOf(auth.toUpperCase(Locale.ROOT));
  }

  @Override
  public void close() {
    routes.values().forEach(r -> r.pool().close());
    routes.clear();
    mxPools.values().forEach(SmtpPool::close);
    mxPools.clear();
  }
}
