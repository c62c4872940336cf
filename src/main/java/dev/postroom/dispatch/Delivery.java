package dev.postroom.dispatch;

import dev.postroom.outbox.DeliveryEvent;
import dev.postroom.outbox.DeliveryRecipient;
import dev.postroom.outbox.RecipientResult;
import dev.postroom.outbox.RecipientStatus;
import dev.postroom.smtp.Reply;
import java.util.ArrayList;
import java.util.List;

/**
 * What a transport did with a group of recipients through one account: a result per recipient it
 * decided, the recipients a connection-level failure cut off (they also have a deferred result, and
 * may be tried through the next account at once), and events about the connection. A value: a
 * transport returns it and writes nothing itself.
 */
record Delivery(
    List<RecipientResult> results, List<DeliveryRecipient> cutOff, List<DeliveryEvent> events) {

  static final Delivery NOTHING = new Delivery(List.of(), List.of(), List.of());

  Delivery {
    results = List.copyOf(results);
    cutOff = List.copyOf(cutOff);
    events = List.copyOf(events);
  }

  /** Every recipient of {@code group} gets the same result, none cut off. */
  static Delivery all(
      List<DeliveryRecipient> group,
      RecipientStatus status,
      Reply reply,
      String stage,
      String host) {
    return new Delivery(
        group.stream().map(r -> result(r, status, reply, stage, host, null)).toList(),
        List.of(),
        List.of());
  }

  /** Every recipient of {@code group} deferred and cut off: to be tried on the next account. */
  static Delivery cutOff(List<DeliveryRecipient> group, Reply reply, String stage, String host) {
    return new Delivery(
        all(group, RecipientStatus.DEFERRED, reply, stage, host).results(), group, List.of());
  }

  Delivery withEvent(DeliveryEvent e) {
    List<DeliveryEvent> more = new ArrayList<>(events);
    more.add(e);
    return new Delivery(results, cutOff, more);
  }

  Delivery plus(Delivery other) {
    List<RecipientResult> r = new ArrayList<>(results);
    r.addAll(other.results);
    List<DeliveryRecipient> c = new ArrayList<>(cutOff);
    c.addAll(other.cutOff);
    List<DeliveryEvent> e = new ArrayList<>(events);
    e.addAll(other.events);
    return new Delivery(r, c, e);
  }

  /**
   * A recipient's result from a reply. The enhanced code is always set: the server's when it sent
   * one of the reply's class, else the class default (X.0.0).
   */
  static RecipientResult result(
      DeliveryRecipient r,
      RecipientStatus status,
      Reply reply,
      String stage,
      String host,
      String forwardPath) {
    return new RecipientResult(
        r.id(),
        status,
        reply.code(),
        reply.enhancedOrDefault().toString(),
        reply.text(),
        stage,
        host,
        forwardPath);
  }
}
