package dev.postroom.dispatch;

import dev.postroom.outbox.DeliveryEvent;
import dev.postroom.outbox.DeliveryRecipient;
import dev.postroom.smtp.Envelope;
import dev.postroom.smtp.MessageContent;
import dev.postroom.smtp.RecipientOutcome;
import dev.postroom.smtp.Reply;
import dev.postroom.smtp.SmtpConnection;
import dev.postroom.smtp.SmtpException;
import dev.postroom.smtp.SmtpPool;
import dev.postroom.smtp.TransactionResult;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;

/**
 * One SMTP transaction for a group of recipients over a pooled connection, with every outcome
 * recorded on the {@link Attempt}. Shared by relay and MX delivery.
 */
final class SmtpExchange {
  static final Duration BORROW_WAIT = Duration.ofMinutes(2);

  /** How the exchange ended. */
  sealed interface Result {
    /** No connection could be had; nothing was recorded. */
    record NoConnection(SmtpException cause) implements Result {}

    /**
     * The transaction ran. {@code cutOff} are the recipients a connection-level failure left open
     * (to be tried elsewhere), {@code failure} that failure's reply.
     */
    record Done(List<DeliveryRecipient> cutOff, Reply failure) implements Result {}
  }

  private final DispatchMetrics metrics;
  private final Clock clock;

  SmtpExchange(DispatchMetrics metrics, Clock clock) {
    this.metrics = metrics;
    this.clock = clock;
  }

  Result run(
      SmtpPool pool,
      String accountName,
      Attempt attempt,
      List<DeliveryRecipient> recipients,
      Function<DeliveryRecipient, String> envelopeAddress,
      String reversePath,
      MessageContent content)
      throws InterruptedException {
    Map<String, List<DeliveryRecipient>> byAddress = new LinkedHashMap<>();
    for (DeliveryRecipient r : recipients) {
      byAddress
          .computeIfAbsent(
              envelopeAddress.apply(r).toLowerCase(Locale.ROOT), k -> new ArrayList<>())
          .add(r);
    }
    List<String> envelopeRecipients =
        byAddress.values().stream().map(list -> envelopeAddress.apply(list.get(0))).toList();
    SmtpConnection connection;
    try {
      connection = pool.borrow(BORROW_WAIT);
    } catch (SmtpException e) {
      return new Result.NoConnection(e);
    }
    Instant t0 = clock.instant();
    TransactionResult result;
    String remoteHost = connection.remoteHost();
    if (connection.isFresh()) {
      attempt.event(
          new DeliveryEvent(
              null,
              "connected",
              accountName,
              remoteHost,
              "connect",
              null,
              null,
              connection.tlsProtocol().map(p -> "TLS " + p).orElse("plaintext")
                  + (connection.capabilities().pipelining() ? ", pipelining" : "")));
    }
    try {
      result = connection.send(new Envelope(reversePath, envelopeRecipients, null), content);
    } finally {
      pool.release(connection);
    }
    metrics.smtpTransaction(accountName, Duration.between(t0, clock.instant()));
    List<DeliveryRecipient> cutOff = new ArrayList<>();
    for (RecipientOutcome outcome : result.outcomes()) {
      String status =
          switch (outcome) {
            case RecipientOutcome.Delivered d -> "delivered";
            case RecipientOutcome.Deferred d -> "deferred";
            case RecipientOutcome.Failed f -> "failed";
          };
      boolean wasCutOff =
          result.connectionFailure() != null
              && outcome instanceof RecipientOutcome.Deferred
              && outcome.reply().equals(result.connectionFailure());
      for (DeliveryRecipient r :
          byAddress.getOrDefault(outcome.recipient().toLowerCase(Locale.ROOT), List.of())) {
        attempt.result(
            r,
            status,
            outcome.reply(),
            MailDelivery.stageName(outcome.stage()),
            remoteHost,
            outcome.forwardPath(),
            accountName);
        if (wasCutOff) {
          cutOff.add(r);
        }
      }
    }
    return new Result.Done(cutOff, result.connectionFailure());
  }
}
