package dev.postroom.web;

import java.security.MessageDigest;
import java.security.SecureRandom;
import java.sql.Connection;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The live sessions, by id. Ids and CSRF tokens are 32 random bytes from {@link SecureRandom}. A
 * session unused for the timeout is gone: its connection is closed by {@link #expire()}, which the
 * server runs every few seconds, and a request that finds it stale is treated as logged out.
 */
final class Sessions {
  static final int MAX_SESSIONS = 10_000;

  private final ConcurrentHashMap<String, Session> byId = new ConcurrentHashMap<>();
  private final SecureRandom random = new SecureRandom();
  private final Duration timeout;
  private final Clock clock;

  Sessions(Duration timeout, Clock clock) {
    this.timeout = timeout;
    this.clock = clock;
  }

  /** The live session with this id, touched; empty when unknown or timed out. */
  Optional<Session> find(String id) {
    if (id == null) {
      return Optional.empty();
    }
    Session s = byId.get(id);
    if (s == null) {
      return Optional.empty();
    }
    Instant now = clock.instant();
    if (expired(s, now)) {
      remove(s);
      return Optional.empty();
    }
    s.touch(now);
    return Optional.of(s);
  }

  /** A new session that has not logged in yet; empty when too many sessions exist. */
  Optional<Session> anonymous() {
    if (byId.size() >= MAX_SESSIONS) {
      expire();
      if (byId.size() >= MAX_SESSIONS) {
        return Optional.empty();
      }
    }
    Session s = new Session(token(), token(), clock.instant());
    byId.put(s.id, s);
    return Optional.of(s);
  }

  /** Replaces an anonymous session by a logged-in one with a new id (no session fixation). */
  Session logIn(Session anonymous, Connection c, String role, boolean admin) {
    Session s = anonymous.loggedIn(token(), token(), c, role, admin);
    s.touch(clock.instant());
    byId.remove(anonymous.id);
    byId.put(s.id, s);
    return s;
  }

  void remove(Session s) {
    byId.remove(s.id, s);
    synchronized (s.lock) {
      s.close();
    }
  }

  /** Ends every session idle for longer than the timeout. */
  void expire() {
    Instant now = clock.instant();
    for (Session s : byId.values()) {
      if (expired(s, now)) {
        remove(s);
      }
    }
  }

  void closeAll() {
    byId.values().forEach(this::remove);
  }

  int size() {
    return byId.size();
  }

  static boolean sameToken(String expected, String given) {
    return given != null
        && MessageDigest.isEqual(
            expected.getBytes(java.nio.charset.StandardCharsets.US_ASCII),
            given.getBytes(java.nio.charset.StandardCharsets.US_ASCII));
  }

  private boolean expired(Session s, Instant now) {
    return s.lastSeen().plus(timeout).isBefore(now);
  }

  private String token() {
    byte[] bytes = new byte[32];
    random.nextBytes(bytes);
    return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
  }
}
