package dev.postroom.dispatch;

import dev.postroom.outbox.DeliveryEvent;
import dev.postroom.outbox.DeliveryRecipient;
import dev.postroom.outbox.EventKind;
import dev.postroom.outbox.RecipientResult;
import dev.postroom.outbox.RecipientStatus;
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
 * One SMTP send for a group of recipients over a pooled connection, turned into a {@link Delivery}.
 * Shared by relay and MX delivery. Recipients whose address cannot go on an SMTP command line fail
 * alone (553 5.1.3); the same address given twice is sent once and recorded for each row.
 */
final class SmtpExchange {
  static final Duration BORROW_WAIT = Duration.ofMinutes(2);

  /** How the exchange ended. */
  sealed interface Result {
    /** No connection could be had; nothing was sent. */
    record NoConnection(SmtpException cause, Delivery refused) implements Result {}

    /**
     * The transaction ran, on a session opened at {@code sessionOpened} (wall-clock time, null when
     * nothing was sent).
     */
    record Sent(Delivery delivery, Reply connectionFailure, Instant sessionOpened)
        implements Result {}
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
      List<DeliveryRecipient> recipients,
      Function<DeliveryRecipient, String> envelopeAddress,
      String reversePath,
      MessageContent content)
      throws InterruptedException {
    List<RecipientResult> refused = new ArrayList<>();
    Map<String, List<DeliveryRecipient>> byAddress = new LinkedHashMap<>();
    String senderProblem = reversePath.isEmpty() ? null : Envelope.problem(reversePath);
    for (DeliveryRecipient r : recipients) {
      String address = envelopeAddress.apply(r);
      String problem = senderProblem != null ? senderProblem : Envelope.problem(address);
      if (problem != null) {
        Reply reply =
            senderProblem != null
                ? Reply.local(553, "5.1.7", "the sender address cannot be sent in SMTP: " + problem)
                : Reply.local(553, "5.1.3", "the address cannot be sent in SMTP: " + problem);
        refused.add(Delivery.result(r, RecipientStatus.FAILED, reply, "address", null, null));
      } else {
        byAddress.computeIfAbsent(address.toLowerCase(Locale.ROOT), k -> new ArrayList<>()).add(r);
      }
    }
    Delivery refusedDelivery = new Delivery(refused, List.of(), List.of());
    if (byAddress.isEmpty()) {
      return new Result.Sent(refusedDelivery, null, null);
    }
    List<String> envelopeRecipients =
        byAddress.values().stream().map(list -> envelopeAddress.apply(list.get(0))).toList();
    SmtpConnection connection;
    try {
      connection = pool.borrow(BORROW_WAIT);
    } catch (SmtpException e) {
      return new Result.NoConnection(e, refusedDelivery);
    }
    Instant t0 = clock.instant();
    Instant opened = pool.openedAt(connection);
    String remoteHost = connection.remoteHost();
    List<DeliveryEvent> events = new ArrayList<>();
    if (connection.isFresh()) {
      events.add(
          new DeliveryEvent(
              null,
              EventKind.CONNECTED,
              accountName,
              remoteHost,
              "connect",
              null,
              null,
              connection.tlsProtocol().map(p -> "TLS " + p).orElse("plaintext")
                  + (connection.capabilities().pipelining() ? ", pipelining" : "")));
    }
    TransactionResult result;
    try {
      result = connection.send(new Envelope(reversePath, envelopeRecipients, null), content);
    } finally {
      pool.release(connection);
    }
    metrics.smtpTransaction(accountName, Duration.between(t0, clock.instant()));
    List<RecipientResult> results = new ArrayList<>(refused);
    List<DeliveryRecipient> cutOff = new ArrayList<>();
    for (RecipientOutcome outcome : result.outcomes()) {
      RecipientStatus status =
          switch (outcome) {
            case RecipientOutcome.Delivered d -> RecipientStatus.DELIVERED;
            case RecipientOutcome.Deferred d -> RecipientStatus.DEFERRED;
            case RecipientOutcome.Failed f -> RecipientStatus.FAILED;
          };
      boolean wasCutOff = outcome instanceof RecipientOutcome.Deferred d && d.cutOff();
      for (DeliveryRecipient r :
          byAddress.getOrDefault(outcome.recipient().toLowerCase(Locale.ROOT), List.of())) {
        results.add(
            Delivery.result(
                r,
                status,
                outcome.reply(),
                stageName(outcome.stage()),
                remoteHost,
                outcome.forwardPath()));
        if (wasCutOff) {
          cutOff.add(r);
        }
      }
    }
    return new Result.Sent(
        new Delivery(results, cutOff, events), result.connectionFailure(), opened);
  }

  static String stageName(Enum<?> stage) {
    return stage == null ? null : stage.name().toLowerCase(Locale.ROOT);
  }
}
