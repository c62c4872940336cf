package dev.postroom.dispatch;

import dev.postroom.smtp.Reply;
import dev.postroom.smtp.SmtpException;
import dev.postroom.smtp.SmtpPool;
import dev.postroom.smtp.Stage;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;
import org.jdbi.v3.core.Jdbi;
import org.jdbi.v3.core.JdbiException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Connection and rate limits and throttle pauses that hold for all dispatchers together, kept in
 * PostgreSQL ({@code R__7d_shaping.sql}). The delivery path asks four things:
 *
 * <ul>
 *   <li>{@link #openSession} before opening an SMTP session: one leased slot in every limited
 *       scope, all or nothing, refused while a scope is paused. The lease is renewed by {@link
 *       #maintain} and given back when the session closes; a dispatcher that dies loses its slots
 *       when their lease runs out ({@link #slotLease}).
 *   <li>{@link #beforeTransaction} before each SMTP transaction: a token from every rate-limited
 *       scope. Tokens are taken from the database in batches (a quarter second's worth, one
 *       statement) and a batch is good for {@link #TOKEN_VALIDITY} only, so in any minute a scope
 *       sees at most its rate plus its bucket (a twentieth) plus a second's worth.
 *   <li>{@link #throttled} on a throttling reply: the scope is paused for every dispatcher.
 *   <li>{@link #succeeded} after a delivery: ends a pause the success disproves.
 * </ul>
 *
 * A scope with neither limit costs nothing but the pause check, which is local except when a
 * session is opened.
 */
final class SharedLimits implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(SharedLimits.class);
  static final Duration MAX_SLOT_LEASE = Duration.ofSeconds(30);
  static final Duration TOKEN_VALIDITY = Duration.ofSeconds(1);
  static final Duration POLL_MIN = Duration.ofMillis(25);
  static final Duration POLL_MAX = Duration.ofMillis(500);

  /**
   * What a limit or pause applies to: {@code account:<id>} or {@code domain:<d>} ({@code d} a
   * policy's domain, or a recipient domain without one). Null limits do not limit.
   */
  record Scope(String key, Integer maxConnections, Integer ratePerMinute) {
    static Scope account(int id, Integer maxConnections, Integer ratePerMinute) {
      return new Scope("account:" + id, maxConnections, ratePerMinute);
    }

    static Scope destination(String domain, Integer maxConnections, Integer ratePerMinute) {
      return new Scope("domain:" + domain, maxConnections, ratePerMinute);
    }
  }

  /** What {@link #openSession} or {@link #beforeTransaction} decided. */
  sealed interface Admission {
    /** Go ahead; close the ticket when the session ends (a transaction's ticket holds nothing). */
    record Admitted(Ticket ticket) implements Admission {}

    /** A scope is paused after throttling until {@code until}. */
    record Paused(String scope, Instant until) implements Admission {
      /** The local reply a mail is deferred with; it says when to come back. */
      Reply reply(Instant now) {
        long seconds = Math.max(1, Duration.between(now, until).toSeconds() + 1);
        return Reply.local(
            451,
            "4.7.0",
            scope.substring(scope.indexOf(':') + 1)
                + " is paused after throttling; try again in "
                + seconds
                + " seconds");
      }
    }

    /** No slot or token came free within the wait. */
    record Busy(String scope, Duration waited) implements Admission {
      Reply reply() {
        return Reply.local(
            451,
            "4.4.5",
            "shared limit of "
                + scope.substring(scope.indexOf(':') + 1)
                + " allowed no session within "
                + waited.toSeconds()
                + " s");
      }
    }
  }

  /** Slots held for one SMTP session. Closing gives them back (once). */
  final class Ticket implements AutoCloseable {
    private final List<String> scopes;
    private final List<Integer> slots;
    final Instant openedAt;
    private boolean closed;

    private Ticket(List<String> scopes, List<Integer> slots, Instant openedAt) {
      this.scopes = scopes;
      this.slots = slots;
      this.openedAt = openedAt;
    }

    @Override
    public void close() {
      synchronized (this) {
        if (closed) {
          return;
        }
        closed = true;
      }
      if (scopes.isEmpty()) {
        return;
      }
      held.remove(this);
      try {
        jdbi.useHandle(h ->
            h.createQuery("SELECT mail.release_slots(:holder, :scopes, :slots)")
                .bind("holder", holder)
                .bindArray("scopes", String.class, scopes)
                .bindArray("slots", Integer.class, slots)
                .mapTo(Integer.class)
                .one());
      } catch (JdbiException e) {
        log.warn(
            "dispatcher {}: could not give back session slots of {} ({}); their lease runs out",
            name,
            scopes,
            DatabaseRetry.rootMessage(e));
      }
    }
  }

  private final Jdbi jdbi;
  private final String name;
  private final String holder;
  private final Clock clock;
  private final Supplier<Duration> lease;
  private final Set<Ticket> held = ConcurrentHashMap.newKeySet();
  private final Map<String, Instant> pauses = new ConcurrentHashMap<>();
  private final Map<List<String>, Tokens> tokens = new ConcurrentHashMap<>();
  private final Map<String, AtomicInteger> counts = new ConcurrentHashMap<>();
  private volatile Instant lastRenewal;

  /** Tokens this process took for one set of scopes and has not used yet. */
  private static final class Tokens {
    final ReentrantLock lock = new ReentrantLock();
    int left;
    Instant goodUntil = Instant.MIN;
  }

  /**
   * @param name the dispatcher's name; slots are held as {@code name#random}, so two processes of
   *     one name never renew each other's
   * @param leaseDuration the mail lease; slots are leased for the shorter of it and {@link
   *     #MAX_SLOT_LEASE}
   */
  SharedLimits(Jdbi jdbi, String name, Clock clock, Supplier<Duration> leaseDuration) {
    this.jdbi = jdbi;
    this.name = name;
    this.holder = name + "#" + Long.toHexString(ThreadLocalRandom.current().nextLong() >>> 16);
    this.clock = clock;
    this.lease = leaseDuration;
    this.lastRenewal = clock.instant();
  }

  String holder() {
    return holder;
  }

  Duration slotLease() {
    Duration l = lease.get();
    return l.compareTo(MAX_SLOT_LEASE) > 0 ? MAX_SLOT_LEASE : l;
  }

  /**
   * Slots for a new session in every scope of {@code limits} that has a connection limit, unless
   * one of them or of {@code pauses} is paused; waits up to {@code wait} for free slots.
   */
  Admission openSession(List<Scope> limits, List<String> pauseScopes, Duration wait)
      throws InterruptedException {
    Admission.Paused local = localPause(limits, pauseScopes);
    if (local != null) {
      return local;
    }
    List<Scope> limited =
        limits.stream()
            .filter(s -> s.maxConnections() != null)
            .sorted(Comparator.comparing(Scope::key))
            .toList();
    List<String> keys = limited.stream().map(Scope::key).toList();
    List<Integer> max = limited.stream().map(Scope::maxConnections).toList();
    List<String> alsoPaused = new ArrayList<>(pauseScopes);
    limits.stream().filter(s -> s.maxConnections() == null).forEach(s -> alsoPaused.add(s.key()));
    Instant start = clock.instant();
    Instant deadline = start.plus(wait);
    long pause = POLL_MIN.toMillis();
    while (true) {
      SlotAnswer answer;
      try {
        answer = acquire(keys, max, alsoPaused);
      } catch (JdbiException e) {
        log.debug("dispatcher {}: acquiring slots failed: {}", name, DatabaseRetry.rootMessage(e));
        answer = new SlotAnswer(null, null, null);
      }
      if (answer.slots() != null) {
        Ticket t = new Ticket(keys, answer.slots(), clock.instant());
        if (!keys.isEmpty()) {
          held.add(t);
        }
        return new Admission.Admitted(t);
      }
      if (answer.pausedScope() != null) {
        Instant until = clock.instant().plusMillis(answer.pausedForMillis());
        pauses.merge(answer.pausedScope(), until, (a, b) -> a.isAfter(b) ? a : b);
        return new Admission.Paused(answer.pausedScope(), until);
      }
      if (!clock.instant().isBefore(deadline)) {
        return new Admission.Busy(
            keys.isEmpty() ? "database" : String.join(", ", keys),
            Duration.between(start, deadline));
      }
      Thread.sleep(jitter(pause));
      pause = Math.min(pause * 2, POLL_MAX.toMillis());
    }
  }

  private record SlotAnswer(List<Integer> slots, String pausedScope, Long pausedForMillis) {}

  private SlotAnswer acquire(List<String> keys, List<Integer> max, List<String> alsoPaused) {
    return jdbi.withHandle(h ->
        h.createQuery(
                "SELECT slots, paused_scope, (extract(epoch FROM paused_for) * 1000)::bigint AS ms"
                    + " FROM mail.acquire_slots(:holder, CAST(:lease AS interval), :scopes,"
                    + " :max, :pauses)")
            .bind("holder", holder)
            .bind("lease", slotLease().toMillis() + " milliseconds")
            .bindArray("scopes", String.class, keys)
            .bindArray("max", Integer.class, max)
            .bindArray("pauses", String.class, alsoPaused)
            .map((rs, ctx) -> {
              java.sql.Array a = rs.getArray("slots");
              List<Integer> slots = a == null ? null : List.of((Integer[]) a.getArray());
              return new SlotAnswer(slots, rs.getString("paused_scope"), rs.getLong("ms"));
            })
            .one());
  }

  /**
   * A token from every rate-limited scope of {@code limits} for one transaction, unless one of them
   * or of {@code pauseScopes} is paused (as far as this process knows); waits up to {@code wait}
   * for tokens. Counts the transaction for {@code mail.destination_status}.
   */
  Admission beforeTransaction(List<Scope> limits, List<String> pauseScopes, Duration wait)
      throws InterruptedException {
    Admission.Paused local = localPause(limits, pauseScopes);
    if (local != null) {
      return local;
    }
    List<Scope> rated =
        limits.stream()
            .filter(s -> s.ratePerMinute() != null)
            .sorted(Comparator.comparing(Scope::key))
            .toList();
    if (!rated.isEmpty()) {
      Admission a = takeToken(rated, pauseScopes, wait);
      if (!(a instanceof Admission.Admitted)) {
        return a;
      }
    }
    limits.forEach(
        s -> counts.computeIfAbsent(s.key(), k -> new AtomicInteger()).incrementAndGet());
    return new Admission.Admitted(new Ticket(List.of(), List.of(), clock.instant()));
  }

  private Admission takeToken(List<Scope> rated, List<String> pauseScopes, Duration wait)
      throws InterruptedException {
    List<String> keys = rated.stream().map(Scope::key).toList();
    List<Integer> rates = rated.stream().map(Scope::ratePerMinute).toList();
    int slowest = rates.stream().mapToInt(Integer::intValue).min().orElse(1);
    int batch = Math.clamp(slowest / 240, 1, 100);
    Tokens t = tokens.computeIfAbsent(keys, k -> new Tokens());
    Instant start = clock.instant();
    Instant deadline = start.plus(wait);
    t.lock.lockInterruptibly();
    try {
      while (true) {
        Instant now = clock.instant();
        if (t.left > 0 && now.isBefore(t.goodUntil)) {
          t.left--;
          return new Admission.Admitted(null);
        }
        TokenAnswer answer;
        try {
          answer = take(keys, rates, batch, pauseScopes);
        } catch (JdbiException e) {
          log.debug("dispatcher {}: taking tokens failed: {}", name, DatabaseRetry.rootMessage(e));
          answer = new TokenAnswer(0, POLL_MAX.toMillis(), null, 0);
        }
        now = clock.instant();
        if (answer.granted() > 0) {
          t.left = answer.granted() - 1;
          t.goodUntil = now.plus(TOKEN_VALIDITY);
          return new Admission.Admitted(null);
        }
        if (answer.pausedScope() != null) {
          Instant until = now.plusMillis(answer.pausedForMillis());
          pauses.merge(answer.pausedScope(), until, (a, b) -> a.isAfter(b) ? a : b);
          return new Admission.Paused(answer.pausedScope(), until);
        }
        if (!now.isBefore(deadline)) {
          return new Admission.Busy(String.join(", ", keys), Duration.between(start, deadline));
        }
        long sleep =
            Math.min(
                Math.max(answer.waitMillis(), POLL_MIN.toMillis()),
                Math.max(1, Duration.between(now, deadline).toMillis()));
        Thread.sleep(Math.min(sleep, 1_000) + ThreadLocalRandom.current().nextLong(10));
      }
    } finally {
      t.lock.unlock();
    }
  }

  private record TokenAnswer(
      int granted, long waitMillis, String pausedScope, long pausedForMillis) {}

  private TokenAnswer take(
      List<String> keys, List<Integer> rates, int wanted, List<String> pauseScopes) {
    return jdbi.withHandle(h ->
        h.createQuery(
                "SELECT granted, ceil(extract(epoch FROM wait) * 1000)::bigint AS wait_ms,"
                    + " paused_scope, (extract(epoch FROM paused_for) * 1000)::bigint AS paused_ms"
                    + " FROM mail.take_tokens(:scopes, :rates, :wanted, :pauses)")
            .bindArray("scopes", String.class, keys)
            .bindArray("rates", Integer.class, rates)
            .bind("wanted", wanted)
            .bindArray("pauses", String.class, pauseScopes)
            .map((rs, ctx) ->
                new TokenAnswer(
                    rs.getInt("granted"),
                    rs.getLong("wait_ms"),
                    rs.getString("paused_scope"),
                    rs.getLong("paused_ms")))
            .one());
  }

  /**
   * Records a throttling reply from {@code scope} for every dispatcher and returns the pause.
   *
   * @param atConnect the reply refused a new session (greeting, EHLO): only a session opened after
   *     it can end the pause early
   */
  Instant throttled(String scope, boolean atConnect, Reply reply) {
    Duration pause =
        jdbi.withHandle(h ->
            h.createQuery(
                    "SELECT (extract(epoch FROM mail.record_throttle(:scope, :connect, :code,"
                        + " :enhanced, :text)) * 1000)::bigint")
                .bind("scope", scope)
                .bind("connect", atConnect)
                .bind("code", reply.code())
                .bind("enhanced", reply.enhanced() == null ? null : reply.enhanced().toString())
                .bind("text", reply.text())
                .mapTo(Long.class)
                .map(Duration::ofMillis)
                .one());
    Instant until = clock.instant().plus(pause);
    pauses.merge(scope, until, (a, b) -> a.isAfter(b) ? a : b);
    log.warn(
        "dispatcher {}: {} throttles ({} {}); paused for {} s",
        name,
        scope,
        reply.code(),
        reply.enhanced() == null ? "" : reply.enhanced(),
        pause.toSeconds());
    return until;
  }

  /**
   * A delivery went through {@code scopes} in a transaction started at {@code transactionStart} on
   * a session opened at {@code sessionOpened}: ends the pauses this process knows of that it
   * disproves. Costs a statement only for a scope this process saw paused.
   */
  void succeeded(List<String> scopes, Instant transactionStart, Instant sessionOpened) {
    for (String scope : scopes) {
      Instant until = pauses.get(scope);
      if (until == null) {
        continue;
      }
      Instant now = clock.instant();
      boolean ended;
      try {
        ended =
            jdbi.withHandle(h ->
                h.createQuery(
                        "SELECT mail.end_throttle(:scope, CAST(:tx AS interval),"
                            + " CAST(:session AS interval))")
                    .bind("scope", scope)
                    .bind("tx", Duration.between(transactionStart, now).toMillis() + " ms")
                    .bind("session", Duration.between(sessionOpened, now).toMillis() + " ms")
                    .mapTo(Boolean.class)
                    .one());
      } catch (JdbiException e) {
        log.debug("dispatcher {}: ending a pause failed: {}", name, DatabaseRetry.rootMessage(e));
        continue;
      }
      if (ended || !now.isBefore(until)) {
        pauses.remove(scope, until);
      }
      if (ended) {
        log.info("dispatcher {}: {} delivered again; its throttle pause ends", name, scope);
      }
    }
  }

  /**
   * What stands before every new session of a pool: a slot in each scope of {@code limits} (waiting
   * up to {@link SmtpExchange#BORROW_WAIT}), refused while one is paused; a session the server
   * refuses with a throttling reply (421 greeting) pauses {@code throttleScope} before its slot is
   * given back, so that no other dispatcher takes the slot and connects in between.
   */
  SmtpPool.SessionGate gate(List<Scope> limits, String throttleScope) {
    return () ->
        switch (openSession(limits, List.of(), SmtpExchange.BORROW_WAIT)) {
          case Admission.Admitted(Ticket ticket) ->
              new SmtpPool.SessionGate.Admission() {
                @Override
                public void openFailed(SmtpException e) {
                  if (Throttling.isThrottling(e.reply())) {
                    try {
                      throttled(throttleScope, true, e.reply());
                    } catch (JdbiException dbDown) {
                      log.warn(
                          "dispatcher {}: could not record the throttle of {}: {}",
                          name,
                          throttleScope,
                          DatabaseRetry.rootMessage(dbDown));
                    }
                  }
                }

                @Override
                public void close() {
                  ticket.close();
                }
              };
          case Admission.Paused p -> {
            Reply reply = p.reply(clock.instant());
            throw new SmtpException(
                SmtpException.Kind.POLICY, Stage.CONNECT, reply, true, reply.text());
          }
          case Admission.Busy b ->
              throw new SmtpException(
                  SmtpException.Kind.TIMEOUT, Stage.CONNECT, b.reply(), true, b.reply().text());
        };
  }

  /** The destination policies as they are now. */
  DestinationPolicies policies() {
    return new DestinationPolicies(
        jdbi.withHandle(h ->
            h
                .createQuery(
                    "SELECT domain, max_connections, rate_per_minute FROM mail.destination_policy")
                .map((rs, ctx) ->
                    new DestinationPolicies.Policy(
                        rs.getString("domain"),
                        rs.getObject("max_connections", Integer.class),
                        rs.getObject("rate_per_minute", Integer.class)))
                .list()
                .stream()
                .collect(
                    java.util.stream.Collectors.toMap(
                        DestinationPolicies.Policy::domain, p -> p))));
  }

  /** When {@code scope} is paused until, as far as this process knows; null when it is not. */
  Instant pausedUntil(String scope) {
    Instant until = pauses.get(scope);
    return until != null && clock.instant().isBefore(until) ? until : null;
  }

  private Admission.Paused localPause(List<Scope> limits, List<String> pauseScopes) {
    for (Scope s : limits) {
      Instant until = pausedUntil(s.key());
      if (until != null) {
        return new Admission.Paused(s.key(), until);
      }
    }
    for (String s : pauseScopes) {
      Instant until = pausedUntil(s);
      if (until != null) {
        return new Admission.Paused(s, until);
      }
    }
    return null;
  }

  /**
   * Called about every second: renews the slot leases once a third of the lease has passed, and
   * writes the transaction counts. Database errors are logged and retried on the next call.
   */
  void maintain() {
    Instant now = clock.instant();
    try {
      if (!held.isEmpty()
          && Duration.between(lastRenewal, now).compareTo(slotLease().dividedBy(3)) >= 0) {
        lastRenewal = now;
        int renewed =
            jdbi.withHandle(h ->
                h.createQuery(
                        "SELECT count(*) FROM mail.renew_slots(:holder, CAST(:lease AS interval))")
                    .bind("holder", holder)
                    .bind("lease", slotLease().toMillis() + " milliseconds")
                    .mapTo(Integer.class)
                    .one());
        int expected = held.stream().mapToInt(t -> t.scopes.size()).sum();
        if (renewed < expected) {
          log.warn(
              "dispatcher {}: {} of {} session slots had expired before renewal (database"
                  + " unreachable for longer than the slot lease?)",
              name,
              expected - renewed,
              expected);
        }
      }
      flushCounts();
      pauses.entrySet().removeIf(e -> now.isAfter(e.getValue().plus(Duration.ofHours(1))));
    } catch (JdbiException e) {
      log.warn("dispatcher {}: shaping upkeep failed: {}", name, DatabaseRetry.rootMessage(e));
    }
  }

  private void flushCounts() {
    List<String> keys = new ArrayList<>();
    List<Integer> n = new ArrayList<>();
    for (String key : new HashSet<>(counts.keySet())) {
      int c = counts.get(key).getAndSet(0);
      if (c > 0) {
        keys.add(key);
        n.add(c);
      }
    }
    if (keys.isEmpty()) {
      return;
    }
    try {
      jdbi.useHandle(h ->
          h.createQuery("SELECT 1 FROM mail.count_transactions(:scopes, :counts)")
              .bindArray("scopes", String.class, keys)
              .bindArray("counts", Integer.class, n)
              .mapTo(Integer.class)
              .one());
    } catch (JdbiException e) {
      for (int i = 0; i < keys.size(); i++) {
        counts.computeIfAbsent(keys.get(i), k -> new AtomicInteger()).addAndGet(n.get(i));
      }
      throw e;
    }
  }

  /** Gives back every slot this process holds and writes the last counts. */
  @Override
  public void close() {
    try {
      flushCounts();
      jdbi.useHandle(h ->
          h.createQuery("SELECT mail.release_slots(:holder)")
              .bind("holder", holder)
              .mapTo(Integer.class)
              .one());
      held.clear();
    } catch (JdbiException e) {
      log.warn(
          "dispatcher {}: could not give back session slots ({}); their lease runs out",
          name,
          DatabaseRetry.rootMessage(e));
    }
  }

  private static long jitter(long millis) {
    return millis / 2 + ThreadLocalRandom.current().nextLong(millis / 2 + 1);
  }
}
