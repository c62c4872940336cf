package dev.postroom.dispatch;

import dev.postroom.smtp.Reply;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * Whether a reply means the server is throttling us: 421 (service not available, closing), or a
 * transient 4.7.x / 4.3.2 / 4.2.1 whose text says so ("too many", "rate", "try again later",
 * "throttl"). A 4.7.x without such words (greylisting, policy) is an ordinary deferral.
 */
final class Throttling {
  private static final Pattern WORDS =
      Pattern.compile("too many|\\brate\\b|rate.?limit|try again later|throttl");

  private Throttling() {}

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
