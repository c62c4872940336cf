package dev.postroom.dispatch;

import dev.postroom.mx.Idn;
import dev.postroom.mx.MxHost;
import dev.postroom.mx.MxResolver;
import dev.postroom.mx.MxRoute;
import dev.postroom.mx.MxSettings;
import dev.postroom.outbox.DeliveryAccount;
import dev.postroom.outbox.DeliveryEvent;
import dev.postroom.outbox.DeliveryRecipient;
import dev.postroom.outbox.EventKind;
import dev.postroom.outbox.RecipientResult;
import dev.postroom.outbox.RecipientStatus;
import dev.postroom.smtp.MessageContent;
import dev.postroom.smtp.Reply;
import dev.postroom.smtp.SmtpException;
import java.net.InetAddress;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Direct delivery (RFC 5321 §5): recipients grouped by domain, each domain's MX hosts tried in
 * order, every address of a host before the next host. A connection-level failure moves on to the
 * next address; a reply about a recipient does not. 521/556 mean the host takes no mail: permanent.
 *
 * <p>Shaping: each domain falls under a destination scope ({@link DestinationPolicies}); a session
 * needs a slot of the account and of the destination, a transaction a token of each that has a
 * rate, and a destination that throttles (see {@link Throttling}) is paused for every dispatcher.
 */
final class MxTransport {
  private final SmtpExchange exchange;
  private final AccountRoutes routes;
  private final Supplier<DispatchSettings> settings;
  private final SharedLimits limits;
  private final Supplier<DestinationPolicies> policies;
  private volatile MxResolver resolver;
  private volatile MxSettings resolverSettings;

  MxTransport(
      SmtpExchange exchange,
      AccountRoutes routes,
      Supplier<DispatchSettings> settings,
      SharedLimits limits,
      Supplier<DestinationPolicies> policies) {
    this.exchange = exchange;
    this.routes = routes;
    this.settings = settings;
    this.limits = limits;
    this.policies = policies;
  }

  Delivery send(
      DeliveryAccount account,
      List<DeliveryRecipient> recipients,
      String reversePath,
      MessageContent content,
      boolean hasNext)
      throws InterruptedException {
    Map<String, List<DeliveryRecipient>> byDomain = new LinkedHashMap<>();
    recipients.forEach(r -> byDomain.computeIfAbsent(r.domain(), d -> new ArrayList<>()).add(r));
    Delivery all = Delivery.NOTHING;
    for (var entry : byDomain.entrySet()) {
      all = all.plus(toDomain(account, entry.getKey(), entry.getValue(), reversePath, content));
    }
    if (!all.cutOff().isEmpty()) {
      all =
          all.withEvent(
              DeliveryEvent.ofMail(
                  hasNext ? EventKind.FAILOVER : EventKind.ERROR,
                  account.name(),
                  all.cutOff().size() + " recipients could not reach any MX host"));
    }
    return all;
  }

  private Delivery toDomain(
      DeliveryAccount account,
      String domain,
      List<DeliveryRecipient> group,
      String reversePath,
      MessageContent content)
      throws InterruptedException {
    if (domain.startsWith("[")) {
      return Delivery.all(
          group,
          RecipientStatus.FAILED,
          Reply.local(
              550, "5.1.2", "an address literal (" + domain + ") is not delivered by MX lookup"),
          "connect",
          null);
    }
    SharedLimits.Scope destination = policies.get().scopeFor(domain);
    Instant paused = limits.pausedUntil(destination.key());
    if (paused != null) {
      return Delivery.all(
          group,
          RecipientStatus.DEFERRED,
          new SharedLimits.Admission.Paused(destination.key(), paused).reply(Instant.now()),
          "connect",
          null);
    }
    MxRoute route;
    try {
      route = resolver().resolve(domain);
    } catch (RuntimeException e) {
      return Delivery.all(
          group,
          RecipientStatus.DEFERRED,
          Reply.local(451, "4.4.3", "MX lookup of " + domain + " failed: " + e.getMessage()),
          "connect",
          null);
    }
    return switch (route) {
      case MxRoute.NullMx n ->
          Delivery.all(
              group,
              RecipientStatus.FAILED,
              Reply.local(
                  556, "5.1.10", "domain " + domain + " accepts no mail (null MX, RFC 7505)"),
              "connect",
              null);
      case MxRoute.NoSuchDomain n ->
          Delivery.all(
              group,
              RecipientStatus.FAILED,
              Reply.local(550, "5.1.2", "domain " + domain + " does not exist"),
              "connect",
              null);
      case MxRoute.NoUsableHosts n ->
          Delivery.all(
              group,
              RecipientStatus.FAILED,
              Reply.local(550, "5.4.4", "no MX host of " + domain + " resolves: " + n.reason()),
              "connect",
              null);
      case MxRoute.TemporaryFailure t ->
          Delivery.cutOff(
              group,
              Reply.local(451, "4.4.3", "DNS lookup of " + domain + " failed: " + t.reason()),
              "connect",
              null);
      case MxRoute.Hosts hosts -> {
        var admission =
            limits.beforeTransaction(
                List.of(AccountRoutes.scope(account), destination),
                List.of(),
                SmtpExchange.BORROW_WAIT);
        yield switch (admission) {
          case SharedLimits.Admission.Admitted a ->
              tryHosts(account, domain, destination, hosts.hosts(), group, reversePath, content);
          case SharedLimits.Admission.Paused p ->
              Delivery.all(
                  group, RecipientStatus.DEFERRED, p.reply(Instant.now()), "connect", null);
          case SharedLimits.Admission.Busy b ->
              Delivery.all(group, RecipientStatus.DEFERRED, b.reply(), "connect", null);
        };
      }
    };
  }

  private Delivery tryHosts(
      DeliveryAccount account,
      String domain,
      SharedLimits.Scope destination,
      List<MxHost> hosts,
      List<DeliveryRecipient> group,
      String reversePath,
      MessageContent content)
      throws InterruptedException {
    List<DeliveryRecipient> remaining = group;
    Delivery decided = Delivery.NOTHING;
    SmtpException lastFailure = null;
    Delivery lastCut = null;
    String lastHost = null;
    int port = settings.get().mxPort();
    for (MxHost host : hosts) {
      for (InetAddress address : host.addresses()) {
        lastHost = host.name() + " [" + address.getHostAddress() + "]";
        Instant started = Instant.now();
        SmtpExchange.Result result =
            exchange.run(
                routes.mxPool(account, destination, host.name(), address, port),
                account.name(),
                remaining,
                MxTransport::envelopeAddress,
                reversePath,
                content);
        switch (result) {
          case SmtpExchange.Result.NoConnection(SmtpException e, Delivery refused) -> {
            decided = decided.plus(refused);
            remaining = without(remaining, refused);
            lastFailure = e;
            lastCut = null;
            if (Throttling.isThrottling(e.reply())) {
              // the pool's gate paused the destination before giving the slot back
              return decided
                  .plus(
                      Delivery.all(
                          remaining, RecipientStatus.DEFERRED, e.reply(), "connect", lastHost))
                  .withEvent(
                      Throttling.event(
                          account.name(),
                          lastHost,
                          e.reply(),
                          destination.key(),
                          limits.pausedUntil(destination.key())));
            }
            if (e.reply() != null && RelayTransport.takesNoMail(e.reply())) {
              return decided.plus(
                  Delivery.all(remaining, RecipientStatus.FAILED, e.reply(), "connect", lastHost));
            }
          }
          case SmtpExchange.Result.Sent(Delivery d, Reply failure, Instant opened) -> {
            Delivery kept = new Delivery(d.results(), List.of(), d.events());
            if (opened != null
                && d.results().stream().anyMatch(r -> r.status() == RecipientStatus.DELIVERED)) {
              limits.succeeded(
                  List.of(AccountRoutes.scope(account).key(), destination.key()), started, opened);
            }
            Throttling.Found found = Throttling.in(d, failure);
            if (found != null) {
              Reply throttle = found.reply();
              Instant until = limits.throttled(destination.key(), false, throttle);
              return decided
                  .plus(kept)
                  .withEvent(
                      Throttling.event(
                          account.name(), lastHost, throttle, destination.key(), until));
            }
            // cut-off recipients get the next host's result, or keep this one's
            List<RecipientResult> cut =
                d.results().stream()
                    .filter(x -> d.cutOff().stream().anyMatch(c -> c.id() == x.recipientId()))
                    .toList();
            decided =
                decided.plus(
                    new Delivery(
                        d.results().stream().filter(x -> !cut.contains(x)).toList(),
                        List.of(),
                        d.events()));
            lastCut = new Delivery(cut, d.cutOff(), List.of());
            remaining = d.cutOff();
            if (remaining.isEmpty()) {
              return decided;
            }
          }
        }
      }
    }
    if (lastCut != null) {
      return decided.plus(lastCut);
    }
    Reply reply =
        lastFailure != null && lastFailure.reply() != null
            ? lastFailure.reply()
            : Reply.local(
                451,
                "4.4.1",
                "no MX host of "
                    + domain
                    + " could be reached"
                    + (lastFailure == null ? "" : ": " + lastFailure.getMessage()));
    return decided.plus(Delivery.cutOff(remaining, reply, "connect", lastHost));
  }

  private static List<DeliveryRecipient> without(List<DeliveryRecipient> group, Delivery d) {
    return group.stream()
        .filter(r -> d.results().stream().noneMatch(x -> x.recipientId() == r.id()))
        .toList();
  }

  /** The RCPT address: the domain in its ASCII form unless the local part needs SMTPUTF8. */
  static String envelopeAddress(DeliveryRecipient r) {
    String address = r.address();
    int at = address.lastIndexOf('@');
    if (at < 0 || Idn.needsSmtpUtf8(address)) {
      return address;
    }
    return address.substring(0, at + 1) + Idn.toAscii(address.substring(at + 1));
  }

  private MxResolver resolver() {
    MxSettings wanted = settings.get().mxSettings();
    if (resolver == null || !wanted.equals(resolverSettings)) {
      synchronized (this) {
        if (resolver == null || !wanted.equals(resolverSettings)) {
          resolver = new MxResolver(wanted);
          resolverSettings = wanted;
        }
      }
    }
    return resolver;
  }
}
