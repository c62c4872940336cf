package dev.postroom.dispatch;

import dev.postroom.outbox.DeliveryEvent;
import dev.postroom.outbox.EventKind;
import dev.postroom.outbox.RecipientResult;
import dev.postroom.outbox.RecipientStatus;
import dev.postroom.smtp.EnhancedCode;
import dev.postroom.smtp.Reply;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Whether a reply means the server is throttling us: 421 (service not available, closing), or a
 * transient 4.7.x / 4.3.2 / 4.2.1 whose text says so ("too many", "rate", "try again later",
 * "throttl"). A 4.7.x without such words (greylisting, policy) is an ordinary deferral.
 */
final class Throttling {
  private static final Pattern WORDS =
      Pattern.compile("too many|\\brate\\b|rate.?limit|try again later|throttl");

  private static final Set<String> SERVER_STAGES = Set.of("mail", "rcpt", "data", "data_end");

  private Throttling() {}

  /**
   * The throttling reply of a transaction that ran: the connection failure that ended it, else a
   * server's deferral of a recipient; null when nothing throttled.
   */
  static Reply in(Delivery delivery, Reply connectionFailure) {
    if (isThrottling(connectionFailure)) {
      return connectionFailure;
    }
    for (RecipientResult r : delivery.results()) {
      if (r.status() == RecipientStatus.DEFERRED
          && r.replyCode() != null
          && r.stage() != null
          && SERVER_STAGES.contains(r.stage())) {
        Reply reply =
            new Reply(
                r.replyCode(),
                r.enhancedCode() == null ? null : EnhancedCode.parse(r.enhancedCode()).orElse(null),
                List.of(r.replyText() == null ? "" : r.replyText()),
                false);
        if (isThrottling(reply)) {
          return reply;
        }
      }
    }
    return null;
  }

  /** A throttled event for the mail, with the reply. */
  static DeliveryEvent event(
      String account, String host, Reply reply, String scope, Instant until) {
    return new DeliveryEvent(
        null,
        EventKind.THROTTLED,
        account,
        host,
        null,
        reply.code(),
        reply.enhanced() == null ? null : reply.enhanced().toString(),
        reply.text()
            + " (paused "
            + scope.substring(scope.indexOf(':') + 1)
            + (until == null ? "" : " until " + until)
            + ")");
  }

  static boolean isThrottling(Reply reply) {
    if (reply == null || reply.local()) {
      return false;
    }
    if (reply.code() == 421) {
      return true;
    }
    if (reply.code() / 100 != 4 || reply.enhanced() == null) {
      return false;
    }
    var e = reply.enhanced();
    boolean code =
        e.klass() == 4
            && (e.subject() == 7
                || (e.subject() == 3 && e.detail() == 2)
                || (e.subject() == 2 && e.detail() == 1));
    return code && WORDS.matcher(reply.text().toLowerCase(Locale.ROOT)).find();
  }
}
