package dev.postroom.dispatch;

import dev.postroom.mx.Idn;
import dev.postroom.mx.MxHost;
import dev.postroom.mx.MxResolver;
import dev.postroom.mx.MxRoute;
import dev.postroom.mx.MxSettings;
import dev.postroom.outbox.DeliveryAccount;
import dev.postroom.outbox.DeliveryEvent;
import dev.postroom.outbox.DeliveryRecipient;
import dev.postroom.smtp.MessageContent;
import dev.postroom.smtp.Reply;
import dev.postroom.smtp.SmtpException;
import java.net.InetAddress;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * Direct delivery (RFC 5321 §5): recipients grouped by domain, each domain's MX hosts tried in
 * order, every address of a host before the next host. A connection-level failure moves on to the
 * next address; a reply about a recipient does not. 521/556 mean the host takes no mail: permanent.
 * A domain that throttles (421, 4.7.x) is paused for a while for every mail of this dispatcher.
 */
final class MxTransport {
  static final Duration THROTTLE_PAUSE = Duration.ofMinutes(1);

  private final SmtpExchange exchange;
  private final AccountRoutes routes;
  private final Supplier<DispatchSettings> settings;
  private final Clock clock;
  private final Map<String, Instant> pausedUntil = new ConcurrentHashMap<>();
  private volatile MxResolver resolver;
  private volatile MxSettings resolverSettings;

  MxTransport(
      SmtpExchange exchange,
      AccountRoutes routes,
      Supplier<DispatchSettings> settings,
      Clock clock) {
    this.exchange = exchange;
    this.routes = routes;
    this.settings = settings;
    this.clock = clock;
  }

  List<DeliveryRecipient> send(
      DeliveryAccount account,
      Attempt attempt,
      List<DeliveryRecipient> recipients,
      String reversePath,
      MessageContent content,
      boolean hasNext)
      throws InterruptedException {
    Map<String, List<DeliveryRecipient>> byDomain = new LinkedHashMap<>();
    recipients.forEach(r -> byDomain.computeIfAbsent(r.domain(), d -> new ArrayList<>()).add(r));
    List<DeliveryRecipient> carry = new ArrayList<>();
    for (var entry : byDomain.entrySet()) {
      carry.addAll(
          sendToDomain(account, attempt, entry.getKey(), entry.getValue(), reversePath, content));
    }
    if (!carry.isEmpty()) {
      attempt.event(
          DeliveryEvent.ofMail(
              hasNext ? "failover" : "error",
              account.name(),
              carry.size() + " recipients could not reach any MX host"));
    }
    return carry;
  }

  private List<DeliveryRecipient> sendToDomain(
      DeliveryAccount account,
      Attempt attempt,
      String domain,
      List<DeliveryRecipient> group,
      String reversePath,
      MessageContent content)
      throws InterruptedException {
    Instant paused = pausedUntil.get(domain);
    if (paused != null && clock.instant().isBefore(paused)) {
      record(
          attempt,
          group,
          "deferred",
          Reply.local(
              451, "4.7.0", "domain " + domain + " is paused after throttling until " + paused),
          null,
          account);
      return List.of();
    }
    MxRoute route = resolver().resolve(domain);
    switch (route) {
      case MxRoute.NullMx n -> {
        record(
            attempt,
            group,
            "failed",
            Reply.local(556, "5.1.10", "domain " + domain + " accepts no mail (null MX, RFC 7505)"),
            null,
            account);
        return List.of();
      }
      case MxRoute.NoSuchDomain n -> {
        record(
            attempt,
            group,
            "failed",
            Reply.local(550, "5.1.2", "domain " + domain + " does not exist"),
            null,
            account);
        return List.of();
      }
      case MxRoute.NoUsableHosts n -> {
        record(
            attempt,
            group,
            "failed",
            Reply.local(550, "5.4.4", "no MX host of " + domain + " resolves: " + n.reason()),
            null,
            account);
        return List.of();
      }
      case MxRoute.TemporaryFailure t -> {
        record(
            attempt,
            group,
            "deferred",
            Reply.local(451, "4.4.3", "DNS lookup of " + domain + " failed: " + t.reason()),
            null,
            account);
        return group;
      }
      case MxRoute.Hosts hosts -> {
        return tryHosts(account, attempt, domain, hosts.hosts(), group, reversePath, content);
      }
    }
  }

  private List<DeliveryRecipient> tryHosts(
      DeliveryAccount account,
      Attempt attempt,
      String domain,
      List<MxHost> hosts,
      List<DeliveryRecipient> group,
      String reversePath,
      MessageContent content)
      throws InterruptedException {
    List<DeliveryRecipient> remaining = group;
    SmtpException lastFailure = null;
    String lastHost = null;
    int port = settings.get().mxPort();
    for (MxHost host : hosts) {
      for (InetAddress address : host.addresses()) {
        lastHost = host.name() + " [" + address.getHostAddress() + "]";
        SmtpExchange.Result result =
            exchange.run(
                routes.mxPool(account, host.name(), address, port),
                account.name(),
                attempt,
                remaining,
                MxTransport::envelopeAddress,
                reversePath,
                content);
        switch (result) {
          case SmtpExchange.Result.NoConnection(SmtpException e) -> {
            lastFailure = e;
            if (e.reply() != null && (e.reply().code() == 521 || e.reply().code() == 556)) {
              record(attempt, remaining, "failed", e.reply(), lastHost, account);
              return List.of();
            }
          }
          case SmtpExchange.Result.Done(List<DeliveryRecipient> cutOff, Reply failure) -> {
            if (failure != null && isThrottling(failure)) {
              pausedUntil.put(domain, clock.instant().plus(THROTTLE_PAUSE));
              return List.of();
            }
            remaining = cutOff;
            if (remaining.isEmpty()) {
              return List.of();
            }
          }
        }
      }
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
    if (lastFailure != null) {
      record(attempt, remaining, "deferred", reply, lastHost, account);
    }
    return remaining;
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

  static boolean isThrottling(Reply reply) {
    return reply.code() == 421
        || (reply.enhanced() != null
            && reply.enhanced().klass() == 4
            && reply.enhanced().subject() == 7);
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

  private static void record(
      Attempt attempt,
      List<DeliveryRecipient> recipients,
      String status,
      Reply reply,
      String host,
      DeliveryAccount account) {
    for (DeliveryRecipient r : recipients) {
      attempt.result(r, status, reply, "connect", host, null, account.name());
    }
  }
}
