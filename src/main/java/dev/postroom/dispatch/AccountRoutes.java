package dev.postroom.dispatch;

import dev.postroom.outbox.DeliveryAccount;
import dev.postroom.smtp.HeloName;
import dev.postroom.smtp.SmtpEndpoint;
import dev.postroom.smtp.SmtpPool;
import dev.postroom.smtp.SmtpSettings;
import dev.postroom.smtp.Timeouts;
import dev.postroom.smtp.TlsMode;
import java.net.InetAddress;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The accounts of every profile, and for each relay account a connection pool (at most its {@code
 * max_connections}), built by {@link AccountSmtp}; every new session is admitted by the {@link
 * SharedLimits} of all dispatchers. Refreshed from the database periodically; an account whose
 * settings changed gets a new pool.
 */
final class AccountRoutes implements AutoCloseable {
  private final SharedLimits limits;
  private final String defaultHeloName = HeloName.ofThisHost();
  private volatile Map<Integer, List<DeliveryAccount>> byProfile = Map.of();
  private final Map<Integer, Route> routes = new ConcurrentHashMap<>();
  private final Map<String, SmtpPool> mxPools = new ConcurrentHashMap<>();
  private volatile Timeouts timeouts = Timeouts.defaults();

  /** A relay account's pool, as built from one version of its settings. */
  record Route(DeliveryAccount account, Timeouts timeouts, SmtpPool pool) {
    boolean builtFor(DeliveryAccount wanted, Timeouts wantedTimeouts) {
      return account.equals(wanted) && timeouts.equals(wantedTimeouts);
    }
  }

  AccountRoutes(SharedLimits limits) {
    this.limits = limits;
  }

  /** The shared scope of an account's own limits. */
  static SharedLimits.Scope scope(DeliveryAccount account) {
    return SharedLimits.Scope.account(
        account.id(), account.maxConnections(), account.ratePerMinute());
  }

  void refresh(Map<Integer, List<DeliveryAccount>> accountsByProfile) {
    byProfile = Map.copyOf(accountsByProfile);
  }

  /**
   * The SMTP timeouts from the settings ({@code smtp_*_timeout}): sessions opened from now on use
   * them; relay pools are rebuilt on their next use and idle MX pools are closed.
   */
  void timeouts(Timeouts value) {
    if (value.equals(timeouts)) {
      return;
    }
    timeouts = value;
    synchronized (routes) {
      mxPools.values().forEach(SmtpPool::close);
      mxPools.clear();
    }
  }

  /** The profile's accounts in failover order (empty for an unknown profile). */
  List<DeliveryAccount> accountsFor(Integer profileId) {
    return profileId == null ? List.of() : byProfile.getOrDefault(profileId, List.of());
  }

  /**
   * The relay route of an account.
   *
   * @throws AccountConfigException when its settings cannot be used
   */
  Route route(DeliveryAccount account) {
    Timeouts wanted = timeouts;
    Route current = routes.get(account.id());
    if (current != null && current.builtFor(account, wanted)) {
      return current;
    }
    synchronized (routes) {
      current = routes.get(account.id());
      if (current != null && current.builtFor(account, wanted)) {
        return current;
      }
      SharedLimits.Scope scope = scope(account);
      Route fresh =
          new Route(
              account,
              wanted,
              AccountSmtp.relayPool(
                  account, settings(account, wanted), limits.gate(List.of(scope), scope.key())));
      routes.put(account.id(), fresh);
      if (current != null) {
        current.pool().close();
      }
      return fresh;
    }
  }

  /**
   * The pool for one address of an MX host, shared by every mail this account sends there for one
   * destination: at most the account's {@code max_connections} to one host in this process; a new
   * session needs a slot of the account and of the destination, shared by all dispatchers. The
   * connection goes to the address the MX lookup found (the name is never resolved again); with
   * verified TLS the certificate is checked against the MX host's name.
   */
  SmtpPool mxPool(
      DeliveryAccount account,
      SharedLimits.Scope destination,
      String hostName,
      InetAddress address,
      int port) {
    TlsMode mode = AccountSmtp.tlsMode(account);
    boolean verify = account.tlsVerify() && mode != TlsMode.STARTTLS && mode != TlsMode.NONE;
    Timeouts wanted = timeouts;
    String key =
        String.join(
            "|",
            String.valueOf(account.id()),
            destination.toString(),
            hostName,
            address.getHostAddress(),
            String.valueOf(port),
            String.valueOf(account.hashCode()),
            String.valueOf(wanted.hashCode()));
    SmtpPool existing = mxPools.get(key);
    if (existing != null) {
      return existing;
    }
    SmtpSettings settings = settings(account, wanted).withTlsVerify(verify);
    return mxPools.computeIfAbsent(
        key,
        k ->
            AccountSmtp.mxPool(
                account,
                new SmtpEndpoint(hostName, port, mode, address),
                settings,
                limits.gate(List.of(scope(account), destination), destination.key())));
  }

  /**
   * Closes sessions idle for longer than {@code idleFor} in every pool, so that a slot of a shared
   * limit is not kept by a dispatcher that has nothing to send.
   */
  void closeIdle(Duration idleFor) {
    routes.values().forEach(r -> r.pool().closeIdle(idleFor));
    mxPools.values().forEach(p -> p.closeIdle(idleFor));
  }

  private SmtpSettings settings(DeliveryAccount account, Timeouts wanted) {
    return AccountSmtp.settings(account, defaultHeloName, wanted);
  }

  @Override
  public void close() {
    routes.values().forEach(r -> r.pool().close());
    routes.clear();
    mxPools.values().forEach(SmtpPool::close);
    mxPools.clear();
  }
}
