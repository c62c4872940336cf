package dev.postroom.smtp;

/**
 * What happened to one recipient of a transaction.
 *
 * <p>{@link #stage()} and {@link #reply()} name the command whose reply decided the outcome; for a
 * delivered recipient that is the end-of-data reply. {@link #forwardPath()} is the address a 251 or
 * 551 reply names, else null.
 */
public sealed interface RecipientOutcome
    permits RecipientOutcome.Delivered, RecipientOutcome.Deferred, RecipientOutcome.Failed {
  String recipient();

  Stage stage();

  Reply reply();

  String forwardPath();

  /** The server took responsibility for the message for this recipient. */
  record Delivered(String recipient, Stage stage, Reply reply, String forwardPath)
      implements RecipientOutcome {}

  /**
   * Try again later: a 4xx reply (or a reply that delivers nothing, such as a 2xx to DATA), or the
   * connection failed before the outcome was known.
   *
   * @param cutOff true when a connection-level failure (421, timeout, lost connection, protocol
   *     error) ended the session before this recipient's outcome was known; {@code reply} is then
   *     {@link TransactionResult#connectionFailure()}, and another server may be tried at once
   */
  record Deferred(String recipient, Stage stage, Reply reply, String forwardPath, boolean cutOff)
      implements RecipientOutcome {
    /**
     * True when the connection was lost or timed out after the final "." was sent: the server may
     * have accepted the message, so a retry can deliver it twice (RFC 5321 §4.5.3.2.6).
     */
    public boolean possibleDuplicate() {
      return stage == Stage.DATA_END && reply.local();
    }
  }

  /** Do not try again: a 5xx reply or a local check that no retry can pass. */
  record Failed(String recipient, Stage stage, Reply reply, String forwardPath)
      implements RecipientOutcome {}
}
