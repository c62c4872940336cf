package dev.postroom.dispatch;

import dev.postroom.outbox.DeliveryAccount;
import dev.postroom.outbox.DeliveryEvent;
import dev.postroom.outbox.DeliveryRecipient;
import dev.postroom.outbox.EventKind;
import dev.postroom.outbox.RecipientStatus;
import dev.postroom.smtp.MessageContent;
import dev.postroom.smtp.Reply;
import dev.postroom.smtp.SmtpException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Delivery through a relay account (a smarthost): one pooled session to the account's host. A
 * connection-level failure (refused, TLS, AUTH, greeting, 421, timeout, dropped) cuts the open
 * recipients off for the next account, except a 521/556 greeting from the last account, which means
 * no relay of the profile takes the mail: those recipients fail (RFC 7504).
 */
final class RelayTransport {
  private final SmtpExchange exchange;
  private final AccountRoutes routes;
  private final SharedLimits limits;
  private final Supplier<DestinationPolicies> policies;

  RelayTransport(
      SmtpExchange exchange,
      AccountRoutes routes,
      SharedLimits limits,
      Supplier<DestinationPolicies> policies) {
    this.exchange = exchange;
    this.routes = routes;
    this.limits = limits;
    this.policies = policies;
  }

  /**
   * Shaping for a relay: the account's own limits and pause; for each destination policy the
   * recipients fall under, its rate, its pause and (for the length of the transaction) its
   * connection limit. Recipients of a paused destination wait; the others go.
   */
  Delivery send(
      DeliveryAccount account,
      List<DeliveryRecipient> recipients,
      String reversePath,
      MessageContent content,
      boolean hasNext)
      throws InterruptedException {
    AccountRoutes.Route route = routes.route(account);
    SharedLimits.Scope own = AccountRoutes.scope(account);
    String host = account.host() + ":" + account.port();
    EventKind moveOn = hasNext ? EventKind.FAILOVER : EventKind.ERROR;
    Map<SharedLimits.Scope, List<DeliveryRecipient>> byDestination = new LinkedHashMap<>();
    for (DeliveryRecipient r : recipients) {
      byDestination
          .computeIfAbsent(policies.get().scopeFor(r.domain()), k -> new ArrayList<>())
          .add(r);
    }
    Delivery waiting = Delivery.NOTHING;
    List<DeliveryRecipient> going = new ArrayList<>();
    List<SharedLimits.Scope> scopes = new ArrayList<>(List.of(own));
    for (var e : byDestination.entrySet()) {
      Instant paused = limits.pausedUntil(e.getKey().key());
      if (paused != null) {
        waiting =
            waiting.plus(
                Delivery.all(
                    e.getValue(),
                    RecipientStatus.DEFERRED,
                    new SharedLimits.Admission.Paused(e.getKey().key(), paused)
                        .reply(Instant.now()),
                    "connect",
                    null));
      } else {
        going.addAll(e.getValue());
        scopes.add(e.getKey());
      }
    }
    if (going.isEmpty()) {
      return waiting;
    }
    switch (limits.beforeTransaction(scopes, List.of(), SmtpExchange.BORROW_WAIT)) {
      case SharedLimits.Admission.Admitted a -> {}
      case SharedLimits.Admission.Paused p -> {
        return waiting.plus(
            Delivery.cutOff(going, p.reply(Instant.now()), "connect", host)
                .withEvent(
                    DeliveryEvent.ofMail(moveOn, account.name(), p.reply(Instant.now()).text())));
      }
      case SharedLimits.Admission.Busy b -> {
        return waiting.plus(
            Delivery.cutOff(going, b.reply(), "connect", host)
                .withEvent(DeliveryEvent.ofMail(moveOn, account.name(), b.reply().text())));
      }
    }
    List<SharedLimits.Scope> held =
        scopes.stream().filter(s -> s != own && s.maxConnections() != null).toList();
    SharedLimits.Ticket hold = null;
    if (!held.isEmpty()) {
      switch (limits.openSession(held, List.of(), SmtpExchange.BORROW_WAIT)) {
        case SharedLimits.Admission.Admitted(SharedLimits.Ticket t) -> hold = t;
        case SharedLimits.Admission.Paused p -> {
          return waiting.plus(
              Delivery.all(
                  going, RecipientStatus.DEFERRED, p.reply(Instant.now()), "connect", null));
        }
        case SharedLimits.Admission.Busy b -> {
          return waiting.plus(
              Delivery.all(going, RecipientStatus.DEFERRED, b.reply(), "connect", null));
        }
      }
    }
    try {
      return waiting.plus(
          shaped(
              account,
              own,
              going,
              sendThrough(route, account, going, reversePath, content, host, moveOn, hasNext)));
    } finally {
      if (hold != null) {
        hold.close();
      }
    }
  }

  /** Records what the exchange says about throttling and success with the shared limits. */
  private Delivery shaped(
      DeliveryAccount account, SharedLimits.Scope own, List<DeliveryRecipient> going, Sent sent) {
    Delivery d = sent.delivery();
    Throttling.Found found = sent.throttle();
    if (found != null) {
      // about one recipient: its destination throttles; about the session: the relay does
      String scope =
          found.recipientId() == null
              ? own.key()
              : going.stream()
                  .filter(r -> r.id() == found.recipientId())
                  .map(r -> policies.get().scopeFor(r.domain()).key())
                  .findFirst()
                  .orElse(own.key());
      Instant until =
          sent.alreadyRecorded()
              ? limits.pausedUntil(scope)
              : limits.throttled(scope, false, found.reply());
      d =
          d.withEvent(
              Throttling.event(account.name(), account.host(), found.reply(), scope, until));
    }
    if (sent.sessionOpened() != null
        && d.results().stream().anyMatch(r -> r.status() == RecipientStatus.DELIVERED)) {
      List<String> scopes = new ArrayList<>(List.of(own.key()));
      going.forEach(r -> scopes.add(policies.get().scopeFor(r.domain()).key()));
      limits.succeeded(scopes.stream().distinct().toList(), sent.started(), sent.sessionOpened());
    }
    return d;
  }

  /** One exchange's delivery, with what shaping needs to know of it. */
  private record Sent(
      Delivery delivery,
      Throttling.Found throttle,
      boolean alreadyRecorded,
      Instant started,
      Instant sessionOpened) {}

  private Sent sendThrough(
      AccountRoutes.Route route,
      DeliveryAccount account,
      List<DeliveryRecipient> recipients,
      String reversePath,
      MessageContent content,
      String host,
      EventKind moveOn,
      boolean hasNext)
      throws InterruptedException {
    Instant started = Instant.now();
    return switch (exchange.run(
        route.pool(),
        account.name(),
        recipients,
        DeliveryRecipient::address,
        reversePath,
        content)) {
      case SmtpExchange.Result.NoConnection(SmtpException e, Delivery refused) -> {
        Reply reply =
            e.reply() != null
                ? e.reply()
                : Reply.local(451, "4.4.1", "cannot connect: " + e.getMessage());
        String stage = SmtpExchange.stageName(e.stage());
        List<DeliveryRecipient> open =
            recipients.stream()
                .filter(r -> refused.results().stream().noneMatch(x -> x.recipientId() == r.id()))
                .toList();
        Delivery d =
            !hasNext && takesNoMail(reply)
                ? Delivery.all(open, RecipientStatus.FAILED, reply, stage, host)
                : Delivery.cutOff(open, reply, stage, host);
        Delivery all =
            refused
                .plus(d)
                .withEvent(
                    DeliveryEvent.ofMail(
                        moveOn, account.name(), e.kind() + " at " + stage + ": " + e.getMessage()));
        // a throttling greeting was recorded by the pool's gate before the slot went back
        yield new Sent(
            all,
            Throttling.isThrottling(e.reply()) ? new Throttling.Found(e.reply(), null) : null,
            true,
            started,
            null);
      }
      case SmtpExchange.Result.Sent(Delivery d, Reply failure, Instant opened) ->
          new Sent(
              d.cutOff().isEmpty()
                  ? d
                  : d.withEvent(
                      DeliveryEvent.ofMail(
                          moveOn,
                          account.name(),
                          "connection failed mid-transaction: " + failure.text())),
              Throttling.in(d, failure),
              false,
              started,
              opened);
    };
  }

  /** 521 and 556: the host does not accept mail at all (RFC 7504). */
  static boolean takesNoMail(Reply reply) {
    return reply.code() == 521 || reply.code() == 556;
  }
}
