package dev.postroom.dispatch;

import dev.postroom.mime.MailAddress;
import dev.postroom.outbox.ClaimedMail;
import dev.postroom.outbox.DeliveryAccount;
import dev.postroom.outbox.DeliveryAttachment;
import dev.postroom.outbox.DeliveryEvent;
import dev.postroom.outbox.DeliveryRecipient;
import dev.postroom.outbox.DeliveryRecord;
import dev.postroom.outbox.DeliveryStore;
import dev.postroom.outbox.EventKind;
import dev.postroom.outbox.MailStatus;
import dev.postroom.outbox.RecipientResult;
import dev.postroom.outbox.RecipientStatus;
import dev.postroom.outbox.ReportedMail;
import dev.postroom.smtp.Envelope;
import dev.postroom.smtp.MessageContent;
import dev.postroom.smtp.Reply;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One attempt at one claimed mail: send its open recipients through the profile's accounts in
 * failover order ({@link RelayTransport}, {@link MxTransport}), apply each {@link Delivery} to the
 * mail's {@link Ledger}, and record what the ledger decides.
 *
 * <p>Results are written before moving to another account, so a 250 is never held back by a slow
 * failover. Every attempt ends with a recorded result, whatever fails: a mail that cannot be
 * composed fails (554 5.6.0), an account whose settings cannot be used fails over (451 4.3.5), and
 * anything unexpected defers the open recipients with a local 451 4.3.0 naming the error, so the
 * retry schedule applies instead of the lease running out.
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
  private final RelayTransport relay;
  private final MxTransport mx;

  MailDelivery(
      DeliveryStore store,
      RecordWriter writer,
      AccountRoutes routes,
      MessageFactory messages,
      Supplier<DispatchSettings> settings,
      Supplier<RetryPolicy> retryPolicy,
      Clock clock,
      DispatchMetrics metrics,
      SharedLimits limits,
      Supplier<DestinationPolicies> policies) {
    this.store = store;
    this.writer = writer;
    this.routes = routes;
    this.messages = messages;
    this.settings = settings;
    this.retryPolicy = retryPolicy;
    this.clock = clock;
    this.metrics = metrics;
    SmtpExchange exchange = new SmtpExchange(metrics, clock);
    this.relay = new RelayTransport(exchange, routes, limits, policies);
    this.mx = new MxTransport(exchange, routes, settings, limits, policies);
  }

  void deliver(
      ClaimedMail mail, List<DeliveryRecipient> recipients, List<DeliveryAttachment> attachments)
      throws InterruptedException {
    Ledger ledger = new Ledger(mail, recipients);
    DeliveryAccount used = null;
    try {
      if (mail.expiresAt() != null && !clock.instant().isBefore(mail.expiresAt())) {
        ledger.giveUp("message lifetime ended before delivery");
        write(ledger, null, ledger.finish(clock.instant(), retryPolicy.get(), null));
        return;
      }
      List<DeliveryRecipient> carriable = refuseUncarriable(ledger);
      List<DeliveryAccount> accounts = routes.accountsFor(mail.profileId());
      if (accounts.isEmpty()) {
        Reply reply = Reply.local(451, "4.3.5", "the mail's profile has no accounts");
        ledger.apply(
            Delivery.all(ledger.open(), RecipientStatus.DEFERRED, reply, "connect", null), null);
      }
      List<DeliveryRecipient> carry = ledger.open();
      for (int i = 0; i < accounts.size() && !carry.isEmpty(); i++) {
        if (i > 0 && !write(ledger, used, null)) {
          return;
        }
        used = accounts.get(i);
        carry = sendThrough(used, ledger, carriable, carry, attachments, i + 1 < accounts.size());
      }
    } catch (InterruptedException e) {
      throw e;
    } catch (RuntimeException e) {
      log.error(
          "mail {} attempt {}: unexpected failure; its open recipients are deferred",
          mail.id(),
          mail.attempts(),
          e);
      Reply reply = Reply.local(451, "4.3.0", "unexpected error in the dispatcher: " + describe(e));
      ledger.apply(
          Delivery.all(ledger.open(), RecipientStatus.DEFERRED, reply, "local", null),
          used == null ? null : used.name());
    }
    write(ledger, used, ledger.finish(clock.instant(), retryPolicy.get(), used));
  }

  /**
   * Records an attempt at a mail whose recipients or attachments could not be read: no recipient
   * changes, an {@code error} event names the problem, and the mail waits for its next try (or
   * fails when the retry policy gives up).
   */
  void cannotLoad(ClaimedMail mail, RuntimeException e) throws InterruptedException {
    Ledger ledger = new Ledger(mail, List.of());
    String why = "the mail cannot be loaded: " + describe(e);
    ledger.apply(
        new Delivery(
            List.of(), List.of(), List.of(DeliveryEvent.ofMail(EventKind.ERROR, null, why))),
        null);
    Instant now = clock.instant();
    RetryPolicy.Decision next =
        retryPolicy.get().next(mail.attempts(), now, mail.expiresAt(), null);
    DeliveryRecord.Finish finish =
        switch (next) {
          case RetryPolicy.Decision.RetryAt r ->
              new DeliveryRecord.Finish(MailStatus.RETRYING, r.when(), null, 451, "4.3.0", why);
          case RetryPolicy.Decision.GiveUp g ->
              new DeliveryRecord.Finish(MailStatus.FAILED, null, null, 451, "4.3.0", why);
        };
    write(ledger, null, finish);
  }

  /** Sends to {@code recipients} through one account; returns those to try on the next one. */
  private List<DeliveryRecipient> sendThrough(
      DeliveryAccount account,
      Ledger ledger,
      List<DeliveryRecipient> carriable,
      List<DeliveryRecipient> recipients,
      List<DeliveryAttachment> attachments,
      boolean hasNext)
      throws InterruptedException {
    ClaimedMail mail = ledger.mail();
    MessageContent content;
    try {
      content = compose(ledger, carriable, attachments, account);
    } catch (IllegalArgumentException | java.io.UncheckedIOException e) {
      Reply reply = Reply.local(554, "5.6.0", "the message cannot be composed: " + e.getMessage());
      ledger.apply(
          Delivery.all(recipients, RecipientStatus.FAILED, reply, "compose", null), account.name());
      return List.of();
    }
    String reversePath = MessageFactory.reversePath(mail, account);
    Delivery delivery;
    try {
      delivery =
          "mx".equals(account.delivery())
              ? mx.send(account, recipients, reversePath, content, hasNext)
              : relay.send(account, recipients, reversePath, content, hasNext);
    } catch (AccountConfigException e) {
      log.warn("mail {}: {}{}", mail.id(), e.getMessage(), hasNext ? "; failing over" : "");
      delivery =
          Delivery.cutOff(recipients, Reply.local(451, "4.3.5", e.getMessage()), "connect", null)
              .withEvent(
                  DeliveryEvent.ofMail(
                      hasNext ? EventKind.FAILOVER : EventKind.ERROR,
                      account.name(),
                      e.getMessage()));
    }
    if (!delivery.cutOff().isEmpty()) {
      log.warn(
          "mail {} attempt {}: account {} could not take {} recipients{}",
          mail.id(),
          mail.attempts(),
          account.name(),
          delivery.cutOff().size(),
          hasNext ? ", failing over" : "");
    }
    ledger.apply(delivery, account.name());
    return delivery.cutOff();
  }

  private MessageContent compose(
      Ledger ledger,
      List<DeliveryRecipient> carriable,
      List<DeliveryAttachment> attachments,
      DeliveryAccount account) {
    ClaimedMail mail = ledger.mail();
    if (mail.isNotification()) {
      ReportedMail reported = store.reported(mail.reportFor(), "delay".equals(mail.reportKind()));
      if (reported != null) {
        return messages.report(mail, reported, account);
      }
    }
    return messages.content(mail, carriable, attachments, account, store::openAttachment);
  }

  /**
   * Fails the open recipients whose address can be neither written into a header nor sent in an
   * SMTP command (553 5.1.3, stage {@code address}), so that they cannot hold back the others;
   * returns the recipients that can be carried, for composing the message.
   */
  private static List<DeliveryRecipient> refuseUncarriable(Ledger ledger) {
    List<DeliveryRecipient> carriable = new ArrayList<>();
    List<RecipientResult> refused = new ArrayList<>();
    for (DeliveryRecipient r : ledger.recipients()) {
      String problem = addressProblem(r);
      if (problem == null) {
        carriable.add(r);
      } else if (r.isOpen()) {
        Reply reply = Reply.local(553, "5.1.3", "the address cannot be carried: " + problem);
        refused.add(Delivery.result(r, RecipientStatus.FAILED, reply, "address", null, null));
      }
    }
    ledger.apply(new Delivery(refused, List.of(), List.of()), null);
    return carriable;
  }

  private static String addressProblem(DeliveryRecipient r) {
    String smtp = Envelope.problem(r.address());
    if (smtp != null) {
      return smtp;
    }
    try {
      new MailAddress(r.address(), r.displayName());
      return null;
    } catch (IllegalArgumentException e) {
      return e.getMessage();
    }
  }

  /** Writes what the ledger has not written yet; false when the lease was lost. */
  private boolean write(Ledger ledger, DeliveryAccount account, DeliveryRecord.Finish finish)
      throws InterruptedException {
    Instant now = clock.instant();
    ClaimedMail mail = ledger.mail();
    Ledger.Unwritten unwritten = ledger.drain();
    DeliveryRecord record =
        new DeliveryRecord(mail, now, unwritten.results(), unwritten.events(), finish);
    Instant deadline = now.plus(settings.get().leaseDuration());
    boolean held =
        DatabaseRetry.until(
            deadline, clock, "recording mail " + mail.id(), () -> writer.write(record));
    if (!held) {
      log.warn(
          "mail {}: lease lost to another dispatcher; this attempt's results were not recorded",
          mail.id());
      return false;
    }
    for (RecipientResult r : unwritten.results()) {
      metrics.outcome(
          r.status().sql(), account == null ? null : account.name(), replyClass(r.replyCode()));
      if (r.status() == RecipientStatus.DELIVERED) {
        metrics.endToEnd(Duration.between(mail.createdAt(), now));
      }
    }
    if (finish != null && finish.status() == MailStatus.RETRYING) {
      log.warn(
          "mail {} attempt {} deferred ({}), next attempt at {}",
          mail.id(),
          mail.attempts(),
          finish.lastReplyCode(),
          finish.nextAttemptAt());
    } else if (finish != null) {
      log.debug("mail {} {}", mail.id(), finish.status().sql());
    }
    return true;
  }

  private static String describe(Throwable e) {
    String m = e.getMessage();
    return e.getClass().getSimpleName()
        + (m == null ? "" : ": " + m.lines().findFirst().orElse(""));
  }

  private static String replyClass(Integer code) {
    return code == null ? "local" : (code / 100) + "xx";
  }
}
