package dev.postroom.dispatch;

import dev.postroom.outbox.DeliveryAccount;
import dev.postroom.outbox.DeliveryEvent;
import dev.postroom.outbox.DeliveryRecipient;
import dev.postroom.outbox.EventKind;
import dev.postroom.outbox.RecipientStatus;
import dev.postroom.smtp.MessageContent;
import dev.postroom.smtp.Reply;
import dev.postroom.smtp.SmtpException;
import java.util.List;

/**
 * Delivery through a relay account (a smarthost): one pooled session to the account's host. A
 * connection-level failure (refused, TLS, AUTH, greeting, 421, timeout, dropped) cuts the open
 * recipients off for the next account, except a 521/556 greeting from the last account, which means
 * no relay of the profile takes the mail: those recipients fail (RFC 7504).
 */
final class RelayTransport {
  private final SmtpExchange exchange;
  private final AccountRoutes routes;

  RelayTransport(SmtpExchange exchange, AccountRoutes routes) {
    this.exchange = exchange;
    this.routes = routes;
  }

  Delivery send(
      DeliveryAccount account,
      List<DeliveryRecipient> recipients,
      String reversePath,
      MessageContent content,
      boolean hasNext)
      throws InterruptedException {
    AccountRoutes.Route route = routes.route(account);
    if (route.limiter() != null) {
      route.limiter().acquire();
    }
    EventKind moveOn = hasNext ? EventKind.FAILOVER : EventKind.ERROR;
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
        String host = account.host() + ":" + account.port();
        String stage = SmtpExchange.stageName(e.stage());
        List<DeliveryRecipient> open =
            recipients.stream()
                .filter(r -> refused.results().stream().noneMatch(x -> x.recipientId() == r.id()))
                .toList();
        Delivery d =
            !hasNext && takesNoMail(reply)
                ? Delivery.all(open, RecipientStatus.FAILED, reply, stage, host)
                : Delivery.cutOff(open, reply, stage, host);
        yield refused
            .plus(d)
            .withEvent(
                DeliveryEvent.ofMail(
                    moveOn, account.name(), e.kind() + " at " + stage + ": " + e.getMessage()));
      }
      case SmtpExchange.Result.Sent(Delivery d, Reply failure) ->
          d.cutOff().isEmpty()
              ? d
              : d.withEvent(
                  DeliveryEvent.ofMail(
                      moveOn,
                      account.name(),
                      "connection failed mid-transaction: " + failure.text()));
    };
  }

  /** 521 and 556: the host does not accept mail at all (RFC 7504). */
  static boolean takesNoMail(Reply reply) {
    return reply.code() == 521 || reply.code() == 556;
  }
}
