package dev.postroom.dispatch;

import dev.postroom.outbox.ClaimedMail;
import dev.postroom.outbox.DeliveryEvent;
import dev.postroom.outbox.DeliveryRecipient;
import dev.postroom.outbox.RecipientResult;
import dev.postroom.smtp.Reply;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What one attempt at a mail has found so far: each recipient's current status, and the results and
 * events not yet written. {@link #drain()} hands the unwritten part to a write.
 */
final class Attempt {
  final ClaimedMail mail;
  final List<DeliveryRecipient> recipients;
  private final Map<Long, String> status = new LinkedHashMap<>();
  private final Map<Long, RecipientResult> lastResult = new LinkedHashMap<>();
  private List<RecipientResult> unwrittenResults = new ArrayList<>();
  private List<DeliveryEvent> unwrittenEvents = new ArrayList<>();
  private Reply lastReply;
  private Reply lastProblem;

  Attempt(ClaimedMail mail, List<DeliveryRecipient> recipients) {
    this.mail = mail;
    this.recipients = recipients;
    recipients.forEach(r -> status.put(r.id(), r.status()));
  }

  List<DeliveryRecipient> open() {
    return recipients.stream().filter(r -> isOpen(status.get(r.id()))).toList();
  }

  long count(String s) {
    return status.values().stream().filter(s::equals).count();
  }

  long openCount() {
    return status.values().stream().filter(Attempt::isOpen).count();
  }

  void result(
      DeliveryRecipient r,
      String outcome,
      Reply reply,
      String stage,
      String remoteHost,
      String forwardPath,
      String account) {
    RecipientResult result =
        new RecipientResult(
            r.id(),
            outcome,
            reply.code(),
            reply.enhanced() == null ? null : reply.enhanced().toString(),
            reply.text(),
            stage,
            remoteHost,
            forwardPath);
    status.put(r.id(), outcome);
    lastResult.put(r.id(), result);
    unwrittenResults.add(result);
    unwrittenEvents.add(
        new DeliveryEvent(
            r.id(),
            outcome,
            account,
            remoteHost,
            stage,
            result.replyCode(),
            result.enhancedCode(),
            result.replyText()));
    lastReply = reply;
    if (!outcome.equals("delivered")) {
      lastProblem = reply;
    }
  }

  /** Ends an open recipient as failed, keeping the reply it last had. */
  void giveUp(DeliveryRecipient r, String event, String why) {
    RecipientResult last = lastResult.get(r.id());
    RecipientResult failed =
        last == null
            ? new RecipientResult(r.id(), "failed", null, null, null, null, null, null)
            : new RecipientResult(
                r.id(),
                "failed",
                last.replyCode(),
                last.enhancedCode(),
                last.replyText(),
                last.stage(),
                last.remoteHost(),
                last.forwardPath());
    status.put(r.id(), "failed");
    unwrittenResults.removeIf(x -> x.recipientId() == r.id());
    unwrittenResults.add(failed);
    unwrittenEvents.add(new DeliveryEvent(r.id(), event, null, null, null, null, "4.4.7", why));
  }

  void event(DeliveryEvent e) {
    unwrittenEvents.add(e);
  }

  /** The last reply of this attempt that was not a delivery, else the last reply, else null. */
  Reply decisiveReply() {
    return lastProblem != null ? lastProblem : lastReply;
  }

  List<RecipientResult> drainResults() {
    List<RecipientResult> out = unwrittenResults;
    unwrittenResults = new ArrayList<>();
    return out;
  }

  List<DeliveryEvent> drainEvents() {
    List<DeliveryEvent> out = unwrittenEvents;
    unwrittenEvents = new ArrayList<>();
    return out;
  }

  static boolean isOpen(String status) {
    return status.equals("pending") || status.equals("deferred");
  }
}
