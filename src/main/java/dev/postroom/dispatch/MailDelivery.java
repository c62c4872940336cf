package dev.postroom.dispatch;

import dev.postroom.outbox.ClaimedMail;
import dev.postroom.outbox.DeliveryAccount;
import dev.postroom.outbox.DeliveryAttachment;
import dev.postroom.outbox.DeliveryEvent;
import dev.postroom.outbox.DeliveryRecipient;
import dev.postroom.outbox.DeliveryRecord;
import dev.postroom.outbox.DeliveryStore;
import dev.postroom.outbox.ReportedMail;
import dev.postroom.smtp.MessageContent;
import dev.postroom.smtp.Reply;
import dev.postroom.smtp.SmtpException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One attempt at one claimed mail: send its open recipients through the profile's accounts in
 * failover order, then record every recipient's outcome and the mail's new state.
 *
 * <p>A connection-level failure (refused, TLS, AUTH, greeting, 421, timeout, dropped) moves the
 * recipients it left open to the next account; a reply about a recipient (4xx, 5xx) does not.
 * Results are written before moving to another account, so a 250 is never held back by a slow
 * failover.
 */
final class MailDelivery {
  private static final Logger log = LoggerFactory.getLogger(MailDelivery.class);

  private final DeliveryStore store;
  private final RecordWriter writer;
  private final AccountRoutes routes;
  private final MessageFactory messages;
  private final Supplier<DispatchSettings> settings;
  private final Supplier<RetryPolicy> retryPolicy;
  private final Clock clock;
  private final DispatchMetrics metrics;
  private final SmtpExchange exchange;
  private final MxTransport mx;

  MailDelivery(
      DeliveryStore store,
      RecordWriter writer,
      AccountRoutes routes,
      MessageFactory messages,
      Supplier<DispatchSettings> settings,
      Supplier<RetryPolicy> retryPolicy,
      Clock clock,
      DispatchMetrics metrics) {
    this.store = store;
    this.writer = writer;
    this.routes = routes;
    this.messages = messages;
    this.settings = settings;
    this.retryPolicy = retryPolicy;
    this.clock = clock;
    this.metrics = metrics;
    this.exchange = new SmtpExchange(metrics, clock);
    this.mx = new MxTransport(exchange, routes, settings, clock);
  }

  void deliver(
      ClaimedMail mail, List<DeliveryRecipient> recipients, List<DeliveryAttachment> attachments)
      throws InterruptedException {
    Attempt attempt = new Attempt(mail, recipients);
    Instant start = clock.instant();
    if (mail.expiresAt() != null && !start.isBefore(mail.expiresAt())) {
      for (DeliveryRecipient r : attempt.open()) {
        attempt.giveUp(r, "expired", "message lifetime ended before delivery");
      }
      write(attempt, null, finish(attempt, null));
      return;
    }
    List<DeliveryAccount> accounts = routes.accountsFor(mail.profileId());
    if (accounts.isEmpty()) {
      Reply reply = Reply.local(451, "4.3.5", "the mail's profile has no accounts");
      attempt
          .open()
          .forEach(r -> attempt.result(r, "deferred", reply, "connect", null, null, null));
    }
    List<DeliveryRecipient> carry = attempt.open();
    DeliveryAccount used = null;
    for (int i = 0; i < accounts.size() && !carry.isEmpty(); i++) {
      if (i > 0 && !write(attempt, used, null)) {
        return;
      }
      used = accounts.get(i);
      carry = sendThrough(used, attempt, carry, attachments, i + 1 < accounts.size());
    }
    write(attempt, used, finish(attempt, used));
  }

  /** Sends to {@code recipients} through one account; returns those to try on the next one. */
  private List<DeliveryRecipient> sendThrough(
      DeliveryAccount account,
      Attempt attempt,
      List<DeliveryRecipient> recipients,
      List<DeliveryAttachment> attachments,
      boolean hasNext)
      throws InterruptedException {
    ReportedMail reported =
        attempt.mail.isNotification()
            ? store.reported(attempt.mail.reportFor(), "delay".equals(attempt.mail.reportKind()))
            : null;
    MessageContent content;
    try {
      content =
          MessageContent.of(
              reported != null
                  ? messages.report(attempt.mail, reported, account)
                  : messages.compose(attempt.mail, attempt.recipients, attachments, account));
    } catch (IllegalArgumentException | java.io.UncheckedIOException e) {
      Reply reply = Reply.local(554, "5.6.0", "the message cannot be composed: " + e.getMessage());
      recipients.forEach(
          r -> attempt.result(r, "failed", reply, "compose", null, null, account.name()));
      return List.of();
    }
    String reversePath = MessageFactory.reversePath(attempt.mail, account);
    if ("mx".equals(account.delivery())) {
      return mx.send(account, attempt, recipients, reversePath, content, hasNext);
    }
    AccountRoutes.Route route = routes.route(account);
    if (route.limiter() != null) {
      route.limiter().acquire();
    }
    SmtpExchange.Result result =
        exchange.run(
            route.pool(),
            account.name(),
            attempt,
            recipients,
            DeliveryRecipient::address,
            reversePath,
            content);
    return switch (result) {
      case SmtpExchange.Result.NoConnection(SmtpException e) -> {
        Reply reply =
            e.reply() != null
                ? e.reply()
                : Reply.local(451, "4.4.1", "cannot connect: " + e.getMessage());
        String host = account.host() + ":" + account.port();
        for (DeliveryRecipient r : recipients) {
          attempt.result(r, "deferred", reply, stageName(e.stage()), host, null, account.name());
        }
        attempt.event(
            DeliveryEvent.ofMail(
                hasNext ? "failover" : "error",
                account.name(),
                e.kind() + " at " + stageName(e.stage()) + ": " + e.getMessage()));
        log.warn(
            "mail {} attempt {}: account {} unusable ({} at {}){}",
            attempt.mail.id(),
            attempt.mail.attempts(),
            account.name(),
            e.kind(),
            stageName(e.stage()),
            hasNext ? ", failing over" : "");
        yield recipients;
      }
      case SmtpExchange.Result.Done(List<DeliveryRecipient> cutOff, Reply failure) -> {
        if (!cutOff.isEmpty()) {
          attempt.event(
              DeliveryEvent.ofMail(
                  hasNext ? "failover" : "error",
                  account.name(),
                  "connection failed mid-transaction: " + failure.text()));
        }
        yield cutOff;
      }
    };
  }

  /** The mail's state once every account has had its chance. */
  private DeliveryRecord.Finish finish(Attempt attempt, DeliveryAccount account) {
    Instant now = clock.instant();
    ClaimedMail mail = attempt.mail;
    Reply decisive = attempt.decisiveReply();
    if (attempt.openCount() > 0) {
      RetryPolicy.Decision decision =
          retryPolicy
              .get()
              .next(
                  mail.attempts(),
                  now,
                  mail.expiresAt(),
                  decisive == null ? null : decisive.text());
      switch (decision) {
        case RetryPolicy.Decision.RetryAt retry -> {
          attempt.event(
              DeliveryEvent.ofMail(
                  "retrying",
                  account == null ? null : account.name(),
                  "next attempt at " + retry.when()));
          return finishWith("retrying", retry.when(), account, decisive);
        }
        case RetryPolicy.Decision.GiveUp giveUp -> {
          String why =
              giveUp.reason() == RetryPolicy.Reason.EXPIRED
                  ? "message lifetime ends before the next try; last reply kept"
                  : "max_attempts reached; last reply kept";
          for (DeliveryRecipient r : attempt.open()) {
            attempt.giveUp(r, "expired", why);
          }
        }
      }
    }
    long delivered = attempt.count("delivered");
    long total = attempt.recipients.size();
    String status = delivered == 0 ? "failed" : delivered == total ? "sent" : "partially_sent";
    attempt.event(
        DeliveryEvent.ofMail(
            status,
            account == null ? null : account.name(),
            delivered + " of " + total + " recipients delivered"));
    return finishWith(status, null, account, decisive);
  }

  private static DeliveryRecord.Finish finishWith(
      String status, Instant next, DeliveryAccount account, Reply reply) {
    return new DeliveryRecord.Finish(
        status,
        next,
        account == null ? null : account.id(),
        reply == null ? null : reply.code(),
        reply == null || reply.enhanced() == null ? null : reply.enhanced().toString(),
        reply == null ? null : reply.text());
  }

  /** Writes what the attempt has not written yet; false when the lease was lost. */
  private boolean write(Attempt attempt, DeliveryAccount account, DeliveryRecord.Finish finish)
      throws InterruptedException {
    Instant now = clock.instant();
    var results = attempt.drainResults();
    DeliveryRecord record =
        new DeliveryRecord(attempt.mail, now, results, attempt.drainEvents(), finish);
    Instant deadline = now.plus(settings.get().leaseDuration());
    boolean held =
        DatabaseRetry.until(
            deadline, clock, "recording mail " + attempt.mail.id(), () -> writer.write(record));
    if (!held) {
      log.warn(
          "mail {}: lease lost to another dispatcher; this attempt's results were not recorded",
          attempt.mail.id());
      return false;
    }
    for (var r : results) {
      metrics.outcome(
          r.status(), account == null ? null : account.name(), replyClass(r.replyCode()));
      if (r.status().equals("delivered")) {
        metrics.endToEnd(Duration.between(attempt.mail.createdAt(), now));
      }
    }
    if (finish != null && finish.status().equals("retrying")) {
      log.warn(
          "mail {} attempt {} deferred ({}), next attempt at {}",
          attempt.mail.id(),
          attempt.mail.attempts(),
          finish.lastReplyCode(),
          finish.nextAttemptAt());
    } else if (finish != null) {
      log.debug("mail {} {}", attempt.mail.id(), finish.status());
    }
    return true;
  }

  static String stageName(Enum<?> stage) {
    return stage == null ? null : stage.name().toLowerCase(Locale.ROOT);
  }

  private static String replyClass(Integer code) {
    return code == null ? "local" : (code / 100) + "xx";
  }
}
