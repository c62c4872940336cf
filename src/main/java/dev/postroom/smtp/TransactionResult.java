package dev.postroom.smtp;

import java.util.List;

/**
 * The result of {@link SmtpConnection#send}.
 *
 * @param outcomes one per envelope recipient, in envelope order
 * @param connectionFailure the 421, timeout, lost connection or protocol error that cut the work
 *     short (the connection is then unusable); null when the connection is fine
 */
public record TransactionResult(List<RecipientOutcome> outcomes, Reply connectionFailure) {
  public TransactionResult {
    outcomes = List.copyOf(outcomes);
  }

  public long deliveredCount() {
    return outcomes.stream().filter(o -> o instanceof RecipientOutcome.Delivered).count();
  }

  /** The recipients the connection failure left undecided, in envelope order. */
  public List<RecipientOutcome.Deferred> cutOff() {
    return outcomes.stream()
        .filter(o -> o instanceof RecipientOutcome.Deferred d && d.cutOff())
        .map(o -> (RecipientOutcome.Deferred) o)
        .toList();
  }

  public boolean allDelivered() {
    return deliveredCount() == outcomes.size();
  }
}
