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
 * "throttl"). A 4.7.x without such words (policy) is an ordinary deferral, and so is greylisting
 * whatever it says ("greylisted, try again later"): it passes on the next try.
 */
final class Throttling {
  private static final Pattern WORDS =
      Pattern.compile("too many|\\brate\\b|rate.?limit|try again later|throttl");

  private static final Set<String> SERVER_STAGES = Set.of("mail", "rcpt", "data", "data_end");

  private Throttling() {}

  /** A throttling reply, about one recipient ({@code recipientId}) or the session (null). */
  record Found(Reply reply, Long recipientId) {}

  /**
   * The throttling reply of a transaction that ran: the connection failure that ended it, else a
   * server's deferral of a recipient; null when nothing throttled.
   */
  static Found in(Delivery delivery, Reply connectionFailure) {
    if (isThrottling(connectionFailure)) {
      return new Found(connectionFailure, null);
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
          return new Found(reply, r.stage().equals("rcpt") ? r.recipientId() : null);
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
    String text = reply.text().toLowerCase(Locale.ROOT);
    return code && WORDS.matcher(text).find() && !text.contains("greylist");
  }
}
