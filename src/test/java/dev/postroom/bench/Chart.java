package dev.postroom.bench;

import java.util.List;
import java.util.Locale;

/** A small hand-written SVG: drain rate by dispatcher count as bars, latency as a caption. */
final class Chart {
  private Chart() {}

  /** Points are {dispatchers, rate, p50, p99}; latency points have dispatchers = 0. */
  static String svg(List<double[]> points) {
    List<double[]> bars = points.stream().filter(p -> p[0] > 0).toList();
    double max = bars.stream().mapToDouble(p -> p[1]).max().orElse(1);
    StringBuilder s = new StringBuilder();
    int width = Math.max(620, 120 + bars.size() * 110);
    s.append(
        String.format(
            Locale.ROOT,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"320\" font-family=\"sans-serif\" font-size=\"13\">%n",
            width));
    s.append(
        "<text x=\"10\" y=\"20\" font-size=\"15\">Postroom drain rate (mails/s, 2 KiB, 1 recipient) by dispatchers</text>\n");
    s.append(
        "<line x1=\"60\" y1=\"260\" x2=\"" + (width - 20) + "\" y2=\"260\" stroke=\"#333\"/>\n");
    int x = 90;
    for (double[] p : bars) {
      double h = 200 * p[1] / max;
      s.append(
          String.format(
              Locale.ROOT,
              "<rect x=\"%d\" y=\"%.0f\" width=\"60\" height=\"%.0f\" fill=\"#3b78c2\"/>%n"
                  + "<text x=\"%d\" y=\"%.0f\" text-anchor=\"middle\">%,.0f</text>%n"
                  + "<text x=\"%d\" y=\"280\" text-anchor=\"middle\">%d dispatcher%s</text>%n",
              x,
              260 - h,
              h,
              x + 30,
              255 - h,
              p[1],
              x + 30,
              (int) p[0],
              p[0] == 1 ? "" : "s"));
      x += 110;
    }
    points.stream()
        .filter(p -> p[0] == 0)
        .findFirst()
        .ifPresent(p ->
            s.append(
                String.format(
                    Locale.ROOT,
                    "<text x=\"10\" y=\"310\">latency at 100 mails/s, commit → recorded 250: p50 %.1f ms, p99 %.1f ms</text>%n",
                    p[2],
                    p[3])));
    return s.append("</svg>\n").toString();
  }
}
