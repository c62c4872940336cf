package dev.postroom.smtp;

import static dev.postroom.smtp.Smtp.hello;
import static dev.postroom.smtp.Smtp.to;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.postroom.smtp.testserver.ScriptedSmtpServer;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Reuse, checks before reuse, and the connection limit. */
class SmtpPoolTest {
  private static final Duration WAIT = Duration.ofSeconds(2);
  private ScriptedSmtpServer server;
  private final MovableClock clock = new MovableClock();
  private SmtpPool pool;

  @BeforeEach
  void start() throws Exception {
    server = new ScriptedSmtpServer();
    pool =
        new SmtpPool(
            Smtp.plain(server),
            Smtp.settings(),
            2,
            Duration.ofMinutes(1),
            Duration.ofMinutes(10),
            clock);
  }

  @AfterEach
  void stop() throws Exception {
    pool.close();
    server.close();
    server.assertNoViolations();
  }

  private TransactionResult sendThroughPool() throws InterruptedException {
    SmtpConnection c = pool.borrow(WAIT);
    try {
      return c.send(to("a@example.org"), hello());
    } finally {
      pool.release(c);
    }
  }

  @Test
  void twoSendsShareOneConnection() throws Exception {
    assertThat(sendThroughPool().allDelivered()).isTrue();
    assertThat(sendThroughPool().allDelivered()).isTrue();
    assertThat(server.sessions()).hasSize(1);
    assertThat(server.session().messages()).hasSize(2);
  }

  @Test
  void aSessionIdleForMoreThanASecondIsProbedWithRset() throws Exception {
    sendThroughPool();
    clock.advance(Duration.ofSeconds(2));
    assertThat(sendThroughPool().allDelivered()).isTrue();
    assertThat(server.sessions()).hasSize(1);
    assertThat(server.session().commands()).contains("RSET");
  }

  @Test
  void aSessionTheServerClosedIsReplaced() throws Exception {
    sendThroughPool();
    server.session().drop();
    clock.advance(Duration.ofSeconds(2));
    assertThat(sendThroughPool().allDelivered()).isTrue();
    assertThat(server.sessions()).hasSize(2);
  }

  @Test
  void aSessionTheServerClosedJustNowIsReplacedToo() throws Exception {
    sendThroughPool();
    server.session().drop();
    assertThat(server.session().awaitEnd(2000)).isTrue();
    assertThat(sendThroughPool().allDelivered()).isTrue();
    assertThat(server.sessions()).hasSize(2);
  }

  @Test
  void aSessionWithUnsolicitedInputIsDiscarded() throws Exception {
    SmtpConnection first = pool.borrow(WAIT);
    pool.release(first);
    server.session().sendUnsolicited("421 4.4.2 idle timeout\r\n");
    await().atMost(WAIT).until(first::hasPendingInput);
    SmtpConnection second = pool.borrow(WAIT);
    try {
      assertThat(second).isNotSameAs(first);
      assertThat(first.isReusable()).isFalse();
    } finally {
      pool.release(second);
    }
    assertThat(server.sessions()).hasSize(2);
  }

  @Test
  void aSessionIdleLongerThanMaxIdleIsClosedNotProbed() throws Exception {
    sendThroughPool();
    clock.advance(Duration.ofMinutes(2));
    sendThroughPool();
    assertThat(server.sessions()).hasSize(2);
    assertThat(server.sessions().get(0).commands()).doesNotContain("RSET").endsWith("QUIT");
  }

  @Test
  void aSessionOlderThanMaxAgeIsClosedOnRelease() throws Exception {
    SmtpConnection c = pool.borrow(WAIT);
    clock.advance(Duration.ofMinutes(11));
    pool.release(c);
    assertThat(c.isReusable()).isFalse();
    assertThat(server.session().awaitEnd(2000)).isTrue();
  }

  @Test
  void aSessionThatSawA421IsNeverReused() throws Exception {
    server.on("DATA_END", "421 4.3.2 bye");
    sendThroughPool();
    assertThat(sendThroughPool().allDelivered()).isTrue();
    assertThat(server.sessions()).hasSize(2);
  }

  @Test
  void noMoreThanMaxConnectionsAreLentAtOnce() throws Exception {
    SmtpConnection a = pool.borrow(WAIT);
    SmtpConnection b = pool.borrow(WAIT);
    assertThatThrownBy(() -> pool.borrow(Duration.ofMillis(100)))
        .isInstanceOfSatisfying(
            SmtpException.class,
            e -> {
              assertThat(e.kind()).isEqualTo(SmtpException.Kind.TIMEOUT);
              assertThat(e.reply().enhanced()).hasToString("4.4.5");
            });
    pool.release(a);
    SmtpConnection c = pool.borrow(WAIT);
    assertThat(c).isSameAs(a);
    pool.release(b);
    pool.release(c);
    assertThat(server.sessions()).hasSize(2);
  }

  @Test
  void aGateAdmitsEveryNewSessionAndGetsItBackWhenTheSessionCloses() throws Exception {
    java.util.concurrent.atomic.AtomicInteger admitted =
        new java.util.concurrent.atomic.AtomicInteger();
    java.util.concurrent.atomic.AtomicInteger returned =
        new java.util.concurrent.atomic.AtomicInteger();
    try (SmtpPool gated =
        new SmtpPool(
            Smtp.plain(server),
            Smtp.settings(),
            2,
            Duration.ofMinutes(1),
            Duration.ofMinutes(10),
            clock,
            () -> {
              admitted.incrementAndGet();
              return returned::incrementAndGet;
            })) {
      SmtpConnection a = gated.borrow(WAIT);
      gated.release(a);
      SmtpConnection again = gated.borrow(WAIT);
      assertThat(again).isSameAs(a);
      assertThat(admitted).as("a reused session is not admitted again").hasValue(1);
      assertThat(gated.openedAt(again)).isEqualTo(clock.instant());
      gated.release(again);
      clock.advance(Duration.ofSeconds(3));
      assertThat(gated.closeIdle(Duration.ofSeconds(2))).isEqualTo(1);
      assertThat(returned).as("closing the idle session gave its admission back").hasValue(1);
      assertThat(gated.closeIdle(Duration.ofSeconds(2))).isZero();
    }
  }

  @Test
  void aGateThatRefusesOpensNothingAndFreesThePoolsPlace() throws Exception {
    SmtpException refusal =
        new SmtpException(
            SmtpException.Kind.POLICY,
            Stage.CONNECT,
            Reply.local(451, "4.7.0", "paused"),
            true,
            "paused");
    try (SmtpPool gated =
        new SmtpPool(
            Smtp.plain(server),
            Smtp.settings(),
            1,
            Duration.ofMinutes(1),
            Duration.ofMinutes(10),
            clock,
            () -> {
              throw refusal;
            })) {
      for (int i = 0; i < 2; i++) {
        assertThatThrownBy(() -> gated.borrow(WAIT)).isSameAs(refusal);
      }
      assertThat(server.sessions()).isEmpty();
    }
  }

  /** A clock tests move by hand. */
  static final class MovableClock extends Clock {
    private volatile Instant now = Instant.parse("2026-01-01T00:00:00Z");

    void advance(Duration d) {
      now = now.plus(d);
    }

    @Override
    public ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
      return this;
    }

    @Override
    public Instant instant() {
      return now;
    }
  }

  @Test
  void pooledTlsSessionsAreReusedAndDiscardedWhenTheServerSpokeUnasked() throws Exception {
    try (ScriptedSmtpServer tls = new ScriptedSmtpServer().implicitTls();
        SmtpPool tlsPool =
            new SmtpPool(
                new SmtpEndpoint("127.0.0.1", tls.port(), TlsMode.IMPLICIT),
                Smtp.settings()
                    .withTrustedCaPem(dev.postroom.smtp.testserver.TestCertificate.get().pem()),
                1,
                Duration.ofMinutes(1),
                Duration.ofMinutes(10),
                clock)) {
      SmtpConnection first = tlsPool.borrow(WAIT);
      assertThat(first.send(to("a@example.org"), hello()).allDelivered()).isTrue();
      tlsPool.release(first);
      SmtpConnection again = tlsPool.borrow(WAIT);
      assertThat(again).isSameAs(first);
      assertThat(again.send(to("a@example.org"), hello()).allDelivered()).isTrue();
      tlsPool.release(again);
      tls.session().sendUnsolicited("421 4.4.2 idle timeout\r\n");
      await().atMost(WAIT).until(first::hasPendingInput);
      SmtpConnection second = tlsPool.borrow(WAIT);
      assertThat(second).isNotSameAs(first);
      tlsPool.release(second);
      assertThat(tls.sessions()).hasSize(2);
    }
  }

  @Test
  void anIdleSessionIsClosedWithQuitOnceItsIdleTimeIsUpWithoutAnotherBorrow() throws Exception {
    try (SmtpPool shortIdle =
        new SmtpPool(
            Smtp.plain(server),
            Smtp.settings(),
            2,
            Duration.ofMillis(300),
            Duration.ofMinutes(10))) {
      SmtpConnection c = shortIdle.borrow(WAIT);
      assertThat(c.send(to("a@example.org"), hello()).allDelivered()).isTrue();
      shortIdle.release(c);

      assertThat(server.session().awaitEnd(10_000))
          .as("the server saw the session end without the pool being used again")
          .isTrue();
      assertThat(server.session().commands()).last().isEqualTo("QUIT");
      assertThat(c.isReusable()).isFalse();
    }
  }
}
