package dev.postroom.outbox;

import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * The settings of {@code mail.setting} as one read returned them: each value with the database's
 * default already applied. Typed accessors name the setting in their error, so a bad value is
 * reported with its key.
 */
public record SettingValues(Map<String, Value> values) {
  /**
   * @param text the value as text; null when the setting is unset and has no default
   * @param seconds for interval-valued settings, the value (or each step) in seconds
   */
  public record Value(String text, List<Double> seconds) {}

  public SettingValues {
    values = Map.copyOf(values);
  }

  /** The text of a setting, null when it has no value. */
  public String text(String name) {
    return value(name).text();
  }

  /** An integer setting, null when it has no value. */
  public Integer integer(String name) {
    String t = text(name);
    try {
      return t == null || t.isBlank() ? null : Integer.valueOf(t.trim());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("setting " + name + " is not an integer: '" + t + "'");
    }
  }

  /** An interval setting, null when it has no value. */
  public Duration duration(String name) {
    List<Duration> d = durations(name);
    return d == null ? null : d.get(0);
  }

  /** An interval-list setting (or an interval as a list of one), null when it has no value. */
  public List<Duration> durations(String name) {
    Value v = value(name);
    if (v.seconds() == null) {
      if (v.text() != null) {
        throw new IllegalArgumentException("setting " + name + " is not an interval");
      }
      return null;
    }
    return v.seconds().stream().map(s -> Duration.ofMillis(Math.round(s * 1000))).toList();
  }

  private Value value(String name) {
    Value v = values.get(name);
    if (v == null) {
      throw new IllegalArgumentException("no setting named " + name);
    }
    return v;
  }
}
