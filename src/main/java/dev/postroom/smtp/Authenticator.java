package dev.postroom.smtp;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Set;

/**
 * SMTP AUTH (RFC 4954) with PLAIN (RFC 4616), LOGIN and XOAUTH2. The mechanism is the configured
 * one, else the best the server offers (PLAIN, then LOGIN). Every line that carries a credential is
 * traced as {@code <redacted>}. A refusal (535, 454, ...) is an {@link SmtpException.Kind#AUTH}
 * failure that the dispatcher treats as transient: a wrong password must not bounce mail.
 */
final class Authenticator {
  private static final Base64.Encoder B64 = Base64.getEncoder();

  private Authenticator() {}

  static void authenticate(SmtpConnection c) throws IOException {
    Credentials cred = c.settings().credentials();
    Set<String> offered = c.capabilities().authMechanisms();
    AuthMechanism mechanism = cred.mechanism() != null ? cred.mechanism() : best(offered);
    if (mechanism == null || !offered.contains(mechanism.name())) {
      Handshake.fail(
          c,
          SmtpException.Kind.AUTH,
          Stage.AUTH,
          Reply.local(
              530,
              "5.7.0",
              "no usable AUTH mechanism: "
                  + (mechanism == null ? "none configured" : mechanism + " wanted")
                  + ", server offers "
                  + (offered.isEmpty() ? "none" : String.join(" ", offered))),
          "cannot authenticate");
    }
    Reply reply =
        switch (mechanism) {
          case PLAIN -> send(c, "AUTH PLAIN " + b64("\0" + cred.username() + "\0" + cred.secret()));
          case XOAUTH2 ->
              xoauth2(
                  c,
                  send(
                      c,
                      "AUTH XOAUTH2 "
                          + b64(
                              "user="
                                  + cred.username()
                                  + "\u0001auth=Bearer "
                                  + cred.secret()
                                  + "\u0001\u0001")));
          case LOGIN -> login(c, cred);
        };
    if (reply.code() != 235) {
      Handshake.fail(c, SmtpException.Kind.AUTH, Stage.AUTH, reply, "authentication refused");
    }
  }

  private static AuthMechanism best(Set<String> offered) {
    if (offered.contains("PLAIN")) {
      return AuthMechanism.PLAIN;
    }
    return offered.contains("LOGIN") ? AuthMechanism.LOGIN : null;
  }

  private static Reply login(SmtpConnection c, Credentials cred) throws IOException {
    Reply reply = Handshake.exchange(c, Stage.AUTH, "AUTH LOGIN");
    if (reply.code() != 334) {
      return reply;
    }
    reply = send(c, b64(cred.username()));
    if (reply.code() != 334) {
      return reply;
    }
    return send(c, b64(cred.secret()));
  }

  /** XOAUTH2 answers a bad token with 334 and a JSON error; an empty line ends the exchange. */
  private static Reply xoauth2(SmtpConnection c, Reply reply) throws IOException {
    return reply.code() == 334 ? send(c, "") : reply;
  }

  private static Reply send(SmtpConnection c, String line) throws IOException {
    try {
      return c.exchange(Stage.AUTH, line, "<redacted>");
    } catch (IOException e) {
      c.markBroken();
      throw c.failure(Stage.AUTH, e);
    }
  }

  private static String b64(String s) {
    return B64.encodeToString(s.getBytes(StandardCharsets.UTF_8));
  }
}
