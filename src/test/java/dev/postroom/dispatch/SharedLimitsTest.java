package dev.postroom.dispatch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.postroom.outbox.OutboxJdbi;
import dev.postroom.smtp.Reply;
import dev.postroom.testing.TestDatabase;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.jdbi.v3.core.Jdbi;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.postgresql.util.PSQLException;

/** The shared limits on real PostgreSQL, with several holders as several dispatchers would be. */
class SharedLimitsTest {
  @RegisterExtension static final TestDatabase db = new TestDatabase();

  private final Jdbi jdbi = OutboxJdbi.create(db.dataSource());

  @BeforeEach
  void clean() {
    jdbi.useHandle(h -> {
      h.execute("DELETE FROM mail.shaping_slot");
      h.execute("DELETE FROM mail.shaping_bucket");
      h.execute("DELETE FROM mail.shaping_pause");
      h.execute("DELETE FROM mail.shaping_count");
      h.execute("DELETE FROM mail.destination_policy");
      h.execute("UPDATE mail.setting SET value = NULL");
    });
  }

  private SharedLimits limits(String name, Duration lease) {
    return new SharedLimits(jdbi, name, Clock.systemUTC(), () -> lease);
  }

  private <T> T one(String sql, Class<T> type) {
    return jdbi.withHandle(h -> h.createQuery(sql).mapTo(type).one());
  }

  private int slotsInUse(String scope) {
    return jdbi.withHandle(h ->
        h.createQuery(
                "SELECT count(*) FROM mail.shaping_slot"
                    + " WHERE scope = :s AND lease_expires_at > clock_timestamp()")
            .bind("s", scope)
            .mapTo(Integer.class)
            .one());
  }

  @Test
  void concurrentHoldersOnSeveralConnectionsNeverHoldMoreThanTheLimit() throws Exception {
    SharedLimits.Scope scope = SharedLimits.Scope.account(1, 3, null);
    AtomicInteger open = new AtomicInteger();
    AtomicInteger most = new AtomicInteger();
    AtomicInteger mostInDatabase = new AtomicInteger();
    ExecutorService pool = Executors.newFixedThreadPool(6);
    List<Future<Integer>> runs = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      SharedLimits holder = limits("d" + i, Duration.ofSeconds(30));
      runs.add(
          pool.submit(() -> {
            int sessions = 0;
            for (int n = 0; n < 25; n++) {
              var a = holder.openSession(List.of(scope), List.of(), Duration.ofSeconds(30));
              assertThat(a).isInstanceOf(SharedLimits.Admission.Admitted.class);
              try (var ticket = ((SharedLimits.Admission.Admitted) a).ticket()) {
                most.accumulateAndGet(open.incrementAndGet(), Math::max);
                mostInDatabase.accumulateAndGet(slotsInUse(scope.key()), Math::max);
                Thread.sleep(3);
                open.decrementAndGet();
              }
              sessions++;
            }
            return sessions;
          }));
    }
    int sessions = 0;
    for (Future<Integer> r : runs) {
      sessions += r.get();
    }
    pool.shutdown();

    assertThat(sessions).as("every holder got its sessions in the end").isEqualTo(150);
    assertThat(most.get()).as("sessions open at once").isBetween(1, 3);
    assertThat(mostInDatabase.get()).as("slots leased at once").isBetween(1, 3);
    assertThat(slotsInUse(scope.key())).as("all given back").isZero();
  }

  @Test
  void aSessionNeedsASlotInEveryScopeOrTakesNone() throws Exception {
    var account = SharedLimits.Scope.account(1, 5, null);
    var destination = SharedLimits.Scope.destination("example.com", 1, null);
    SharedLimits a = limits("a", Duration.ofSeconds(30));
    SharedLimits b = limits("b", Duration.ofSeconds(30));
    var first = a.openSession(List.of(account, destination), List.of(), Duration.ZERO);
    assertThat(first).isInstanceOf(SharedLimits.Admission.Admitted.class);

    var second = b.openSession(List.of(account, destination), List.of(), Duration.ZERO);
    assertThat(second).isInstanceOf(SharedLimits.Admission.Busy.class);
    assertThat(slotsInUse(account.key())).as("the account slot was not kept").isEqualTo(1);

    var otherDomain =
        b.openSession(
            List.of(account, SharedLimits.Scope.destination("example.org", 1, null)),
            List.of(),
            Duration.ZERO);
    assertThat(otherDomain).isInstanceOf(SharedLimits.Admission.Admitted.class);
    assertThat(slotsInUse(account.key())).isEqualTo(2);
  }

  @Test
  void aDeadHoldersSlotsComeBackWhenTheirLeaseRunsOutAndARenewedLeaseHolds() throws Exception {
    var scope = SharedLimits.Scope.account(7, 2, null);
    SharedLimits dead = limits("dead", Duration.ofSeconds(2));
    SharedLimits alive = limits("alive", Duration.ofSeconds(2));
    SharedLimits waiting = limits("waiting", Duration.ofSeconds(2));
    // "dead" takes a slot and never renews or gives it back (as a SIGKILLed process would)
    assertThat(dead.openSession(List.of(scope), List.of(), Duration.ZERO))
        .isInstanceOf(SharedLimits.Admission.Admitted.class);
    assertThat(alive.openSession(List.of(scope), List.of(), Duration.ZERO))
        .isInstanceOf(SharedLimits.Admission.Admitted.class);
    assertThat(waiting.openSession(List.of(scope), List.of(), Duration.ZERO))
        .isInstanceOf(SharedLimits.Admission.Busy.class);

    Instant start = Instant.now();
    SharedLimits.Admission got = null;
    while (Duration.between(start, Instant.now()).toSeconds() < 10) {
      alive.maintain();
      got = waiting.openSession(List.of(scope), List.of(), Duration.ofMillis(200));
      if (got instanceof SharedLimits.Admission.Admitted) {
        break;
      }
    }
    assertThat(got)
        .as("the dead holder's slot")
        .isInstanceOf(SharedLimits.Admission.Admitted.class);
    List<String> holders =
        jdbi.withHandle(h ->
            h.createQuery(
                    "SELECT holder FROM mail.shaping_slot WHERE scope = :s"
                        + " AND lease_expires_at > clock_timestamp() ORDER BY holder")
                .bind("s", scope.key())
                .mapTo(String.class)
                .list());
    assertThat(holders).containsExactly(alive.holder(), waiting.holder());
  }

  @Test
  void tokensHoldTheRateWithABurstOfAtMostATenthPlusTwo() throws Exception {
    int rate = 600;
    var scope = SharedLimits.Scope.account(3, null, rate);
    List<Instant> granted = Collections.synchronizedList(new ArrayList<>());
    ExecutorService pool = Executors.newFixedThreadPool(4);
    Instant start = Instant.now();
    Instant end = start.plusSeconds(4);
    List<Future<?>> runs = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      SharedLimits holder = limits("t" + i, Duration.ofSeconds(30));
      runs.add(
          pool.submit(() -> {
            while (Instant.now().isBefore(end)) {
              var a = holder.beforeTransaction(List.of(scope), List.of(), Duration.ofSeconds(2));
              if (a instanceof SharedLimits.Admission.Admitted) {
                granted.add(Instant.now());
              }
            }
            return null;
          }));
    }
    for (Future<?> r : runs) {
      r.get();
    }
    pool.shutdown();
    double seconds = Duration.between(start, Instant.now()).toMillis() / 1000.0;
    int burst = rate / 10 + 2;

    // in any window of t seconds: at most the steady rate over t, plus the burst
    List<Instant> sorted = new ArrayList<>(granted);
    Collections.sort(sorted);
    for (int i = 0; i < sorted.size(); i++) {
      for (int j = i; j < sorted.size(); j++) {
        double t = Duration.between(sorted.get(i), sorted.get(j)).toMillis() / 1000.0;
        assertThat(j - i + 1)
            .as("transactions in %.2f s", t)
            .isLessThanOrEqualTo((int) Math.floor(rate * t / 60) + burst);
      }
    }
    assertThat(sorted.size()).isLessThanOrEqualTo((int) (rate * seconds / 60) + burst);
    assertThat(sorted).as("the bucket did hand out tokens").isNotEmpty();
  }

  @Test
  void aPauseDoublesWhileThrottlingPersistsUpToTheMaximumAndASuccessEndsItEarly() throws Exception {
    jdbi.useHandle(h -> {
      h.execute("SELECT mail.configure('throttle_pause', '300 milliseconds')");
      h.execute("SELECT mail.configure('throttle_pause_max', '1 second')");
    });
    SharedLimits a = limits("a", Duration.ofSeconds(30));
    SharedLimits b = limits("b", Duration.ofSeconds(30));
    Reply tooMany =
        new Reply(421, null, List.of("4.7.0 too many connections, try again later"), false);
    String scope = "domain:example.com";
    List<Long> lengths = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      Instant before = Instant.now();
      Instant until = a.throttled(scope, false, tooMany);
      // until is the server's now() plus the pause, so the call's own latency comes on top
      lengths.add(Duration.between(before, until).toMillis());
      // every dispatcher sees the pause when it would open a session
      var seen =
          b.openSession(
              List.of(SharedLimits.Scope.destination("example.com", 3, null)),
              List.of(),
              Duration.ZERO);
      assertThat(seen).isInstanceOf(SharedLimits.Admission.Paused.class);
      assertThat(((SharedLimits.Admission.Paused) seen).reply(Instant.now()).text())
          .contains("example.com is paused after throttling; try again in");
      Thread.sleep(Duration.between(Instant.now(), until).toMillis() + 50);
    }
    long[] expected = {300, 600, 1000, 1000};
    assertThat(lengths).hasSize(expected.length);
    for (int i = 0; i < expected.length; i++) {
      assertThat(lengths.get(i))
          .as("pause %d of %s (ms, including the call's latency)", i + 1, lengths)
          .isBetween(expected[i] - 5, expected[i] + 250);
    }

    // a throttle while paused does not lengthen the pause
    Instant until = a.throttled(scope, false, tooMany);
    Instant again = a.throttled(scope, false, tooMany);
    assertThat(again).isBeforeOrEqualTo(until.plusMillis(50));

    // a success in a transaction started before the throttle does not end it; a later one does
    Instant longAgo = Instant.now().minusSeconds(5);
    a.succeeded(List.of(scope), longAgo, longAgo);
    assertThat(b.openSession(List.of(), List.of(scope), Duration.ZERO))
        .isInstanceOf(SharedLimits.Admission.Paused.class);
    Thread.sleep(20);
    Instant now = Instant.now();
    a.succeeded(List.of(scope), now, longAgo);
    SharedLimits c = limits("c", Duration.ofSeconds(30));
    assertThat(c.openSession(List.of(), List.of(scope), Duration.ZERO))
        .isInstanceOf(SharedLimits.Admission.Admitted.class);
    assertThat(a.pausedUntil(scope)).isNull();
    // and the doubling starts over
    Instant fresh = Instant.now();
    assertThat(Duration.between(fresh, a.throttled(scope, false, tooMany)).toMillis())
        .isBetween(200L, 350L);
  }

  @Test
  void aRefusedSessionIsDisprovedOnlyByASessionOpenedAfterIt() throws Exception {
    SharedLimits a = limits("a", Duration.ofSeconds(30));
    Reply greeting = new Reply(421, null, List.of("too many connections"), false);
    String scope = "account:9";
    Instant sessionBefore = Instant.now().minusSeconds(10);
    a.throttled(scope, true, greeting);
    Thread.sleep(20);
    a.succeeded(List.of(scope), Instant.now(), sessionBefore);
    assertThat(a.pausedUntil(scope)).as("an older session's success").isNotNull();
    Thread.sleep(20);
    Instant now = Instant.now();
    a.succeeded(List.of(scope), now, now);
    assertThat(a.pausedUntil(scope)).isNull();
  }

  @Test
  void destinationPoliciesMatchTheDomainExactlyOrItsSubdomainsByWildcard() {
    jdbi.useHandle(h -> {
      h.execute("SELECT mail.add_destination_policy('Example.com', max_connections => 1)");
      h.execute("SELECT mail.add_destination_policy('*.example.com', rate_per_minute => 100)");
      h.execute("SELECT mail.add_destination_policy('*.eu.example.com', 2, 50)");
      h.execute("SELECT mail.add_destination_policy('*.example.net', 4)");
    });
    DestinationPolicies p = limits("x", Duration.ofSeconds(30)).policies();

    assertThat(p.scopeFor("example.com"))
        .isEqualTo(SharedLimits.Scope.destination("example.com", 1, null));
    assertThat(p.scopeFor("mail.EXAMPLE.com"))
        .isEqualTo(SharedLimits.Scope.destination("*.example.com", null, 100));
    assertThat(p.scopeFor("a.b.example.com"))
        .isEqualTo(SharedLimits.Scope.destination("*.example.com", null, 100));
    assertThat(p.scopeFor("x.eu.example.com"))
        .isEqualTo(SharedLimits.Scope.destination("*.eu.example.com", 2, 50));
    assertThat(p.scopeFor("example.net"))
        .as("a wildcard does not cover the domain itself")
        .isEqualTo(SharedLimits.Scope.destination("example.net", null, null));
    assertThat(p.scopeFor("notexample.com"))
        .isEqualTo(SharedLimits.Scope.destination("notexample.com", null, null));

    assertThat(one("SELECT mail.drop_destination_policy('EXAMPLE.com')", Boolean.class)).isTrue();
    assertThat(one("SELECT mail.drop_destination_policy('example.com')", Boolean.class)).isFalse();
  }

  @Test
  void badDestinationPoliciesAreRefusedNamingTheValue() {
    for (String bad :
        new String[] {"'exa mple.com'", "'a@example.com'", "'*example.com'", "'a.*.com'", "''"}) {
      assertThatThrownBy(() ->
              jdbi.useHandle(h -> h.execute("SELECT mail.add_destination_policy(" + bad + ")")))
          .hasRootCauseInstanceOf(PSQLException.class)
          .rootCause()
          .hasMessageContaining("invalid destination domain")
          .satisfies(e -> assertThat(((PSQLException) e).getSQLState()).isEqualTo("MA016"));
    }
    assertThatThrownBy(() ->
            jdbi.useHandle(h -> h.execute("SELECT mail.add_destination_policy('example.com', 0)")))
        .rootCause()
        .hasMessageContaining("example.com needs max_connections")
        .satisfies(e -> assertThat(((PSQLException) e).getSQLState()).isEqualTo("MA016"));
    assertThat(one("SELECT count(*) FROM mail.destination_policy", Integer.class)).isZero();
  }

  @Test
  void destinationStatusShowsPausesSessionsAndSendsOfTheLastMinute() throws Exception {
    jdbi.useHandle(h -> h.execute("SELECT mail.add_destination_policy('example.com', 2, 120)"));
    SharedLimits a = limits("a", Duration.ofSeconds(30));
    var scope = SharedLimits.Scope.destination("example.com", 2, 120);
    var admitted = a.openSession(List.of(scope), List.of(), Duration.ZERO);
    assertThat(admitted).isInstanceOf(SharedLimits.Admission.Admitted.class);
    for (int i = 0; i < 3; i++) {
      assertThat(a.beforeTransaction(List.of(scope), List.of(), Duration.ofSeconds(5)))
          .isInstanceOf(SharedLimits.Admission.Admitted.class);
    }
    a.throttled("domain:other.org", false, new Reply(421, null, List.of("slow down"), false));
    a.maintain();

    var rows =
        jdbi.withHandle(h ->
            h.createQuery(
                    "SELECT domain, max_connections, rate_per_minute, paused_until IS NOT NULL AS p,"
                        + " connections_in_use, sends_last_minute, throttle_reply"
                        + " FROM mail.destination_status WHERE domain IS NOT NULL ORDER BY domain")
                .mapToMap()
                .list());
    assertThat(rows).hasSize(2);
    assertThat(rows.get(0))
        .containsEntry("domain", "example.com")
        .containsEntry("max_connections", 2)
        .containsEntry("rate_per_minute", 120)
        .containsEntry("p", false)
        .containsEntry("connections_in_use", 1)
        .containsEntry("sends_last_minute", 3);
    assertThat(rows.get(1))
        .containsEntry("domain", "other.org")
        .containsEntry("p", true)
        .containsEntry("throttle_reply", "421 slow down");

    ((SharedLimits.Admission.Admitted) admitted).ticket().close();
    a.close();
    assertThat(slotsInUse(scope.key())).isZero();
  }

  @Test
  void theDispatcherMayUseTheShapingFunctionsAndASenderMayNot() throws Exception {
    String acquire =
        "SELECT * FROM mail.acquire_slots('x', '1 second', ARRAY['account:1'], ARRAY[1])";
    try (var c = db.connect();
        var st = c.createStatement()) {
      st.execute("SET ROLE mail_dispatcher");
      st.execute(acquire);
      st.execute("SELECT * FROM mail.take_tokens(ARRAY['account:1'], ARRAY[60], 1)");
      st.execute("SELECT mail.release_slots('x')");
      st.execute("SELECT * FROM mail.destination_status");
      st.execute("SET ROLE mail_sender");
      for (String sql :
          List.of(
              acquire,
              "SELECT mail.record_throttle('account:1', true, 421, null, 'x')",
              "SELECT mail.add_destination_policy('example.com', 1)",
              "SELECT * FROM mail.shaping_slot")) {
        assertThatThrownBy(() -> st.execute(sql))
            .isInstanceOf(PSQLException.class)
            .satisfies(e -> assertThat(((PSQLException) e).getSQLState()).isEqualTo("42501"));
      }
    }
  }

  @Test
  void throttlingRepliesAreRecognisedByCodeAndWords() {
    assertThat(Throttling.isThrottling(reply(421, "4.7.0", "too many connections"))).isTrue();
    assertThat(Throttling.isThrottling(reply(421, null, "service shutting down"))).isTrue();
    assertThat(Throttling.isThrottling(reply(451, "4.7.1", "rate limit exceeded"))).isTrue();
    assertThat(Throttling.isThrottling(reply(450, "4.2.1", "try again later"))).isTrue();
    assertThat(Throttling.isThrottling(reply(452, "4.3.2", "throttled"))).isTrue();
    assertThat(Throttling.isThrottling(reply(451, "4.7.1", "greylisted, come back soon")))
        .isFalse();
    assertThat(Throttling.isThrottling(reply(451, "4.7.1", "greylisted, try again later")))
        .isFalse();
    assertThat(Throttling.isThrottling(reply(450, "4.2.2", "mailbox full, try again later")))
        .isFalse();
    assertThat(Throttling.isThrottling(reply(550, "5.7.1", "too many spam reports"))).isFalse();
    assertThat(Throttling.isThrottling(Reply.local(421, "4.4.2", "timeout"))).isFalse();
  }

  private static Reply reply(int code, String enhanced, String text) {
    return new Reply(
        code,
        enhanced == null ? null : dev.postroom.smtp.EnhancedCode.parse(enhanced).orElseThrow(),
        List.of(enhanced == null ? text : enhanced + " " + text),
        false);
  }
}
