package dev.postroom.web;

import dev.postroom.web.StatusQueries.Minute;
import java.util.ArrayList;
import java.util.List;

/**
 * The overview's throughput chart as numbers for an inline SVG: one stacked bar a minute (delivered
 * at the bottom, then deferred, then failed), scaled to the busiest minute.
 */
final class Chart {
  static final int BAR = 12;
  static final int GAP = 2;
  static final int PLOT_HEIGHT = 150;
  static final int TOP = 16;
  static final int LABEL_SPACE = 40;
  static final int LEFT = 16;

  record Segment(String css, int x, int y, int width, int height) {}

  record Bar(String label, int delivered, int deferred, int failed, List<Segment> segments) {}

  record Tick(int x, String label) {}

  final List<Bar> bars = new ArrayList<>();
  final List<Tick> ticks = new ArrayList<>();
  final int max;
  final int delivered;
  final int deferred;
  final int failed;
  final int plotWidth;
  final int width;
  final int height = TOP + PLOT_HEIGHT + 20;
  final int baseline = TOP + PLOT_HEIGHT;
  final int labelX;
  final int left = LEFT;
  final int labelY = TOP + PLOT_HEIGHT + 14;

  Chart(List<Minute> minutes) {
    max = Math.max(1, minutes.stream().mapToInt(Minute::total).max().orElse(0));
    delivered = minutes.stream().mapToInt(Minute::delivered).sum();
    deferred = minutes.stream().mapToInt(Minute::deferred).sum();
    failed = minutes.stream().mapToInt(Minute::failed).sum();
    plotWidth = LEFT + minutes.size() * BAR;
    width = plotWidth + LABEL_SPACE;
    labelX = plotWidth + 6;
    for (int i = 0; i < minutes.size(); i++) {
      Minute m = minutes.get(i);
      int x = LEFT + i * BAR + GAP / 2;
      List<Segment> segments = new ArrayList<>();
      int top = baseline;
      int[] values = {m.delivered(), m.deferred(), m.failed()};
      String[] css = {"delivered", "deferred", "failed"};
      for (int k = 0; k < values.length; k++) {
        if (values[k] > 0) {
          int h = Math.max(1, Math.round((float) values[k] * PLOT_HEIGHT / max));
          top -= h;
          segments.add(new Segment(css[k], x, top, BAR - GAP, h));
        }
      }
      bars.add(new Bar(m.label(), m.delivered(), m.deferred(), m.failed(), segments));
      if (i % 10 == 0 || i == minutes.size() - 1) {
        ticks.add(new Tick(x + (BAR - GAP) / 2, m.label()));
      }
    }
  }
}
