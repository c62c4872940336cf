package dev.postroom.cli;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** A plain-text table with left-aligned columns, for terminal output. Nulls print as "-". */
final class Table {
  private static final int MAX_CELL = 80;
  private final List<String> headers;
  private final List<List<String>> rows = new ArrayList<>();

  Table(String... headers) {
    this.headers = List.of(headers);
  }

  Table(List<String> headers) {
    this.headers = List.copyOf(headers);
  }

  Table row(Object... cells) {
    if (cells.length != headers.size()) {
      throw new IllegalArgumentException(
          "row has " + cells.length + " cells for " + headers.size() + " columns");
    }
    rows.add(Arrays.stream(cells).map(Table::cell).toList());
    return this;
  }

  boolean isEmpty() {
    return rows.isEmpty();
  }

  void print(PrintStream out, String indent) {
    int[] widths = new int[headers.size()];
    for (int i = 0; i < widths.length; i++) {
      widths[i] = headers.get(i).length();
      for (List<String> row : rows) {
        widths[i] = Math.max(widths[i], row.get(i).length());
      }
    }
    out.println(indent + line(headers, widths));
    for (List<String> row : rows) {
      out.println(indent + line(row, widths));
    }
  }

  private static String line(List<String> cells, int[] widths) {
    StringBuilder line = new StringBuilder();
    for (int i = 0; i < cells.size(); i++) {
      String cell = cells.get(i);
      line.append(cell);
      if (i < cells.size() - 1) {
        line.append(" ".repeat(widths[i] - cell.length() + 2));
      }
    }
    return line.toString().stripTrailing();
  }

  private static String cell(Object value) {
    if (value == null) {
      return "-";
    }
    String text = value.toString().replaceAll("\\s+", " ").strip();
    return text.length() > MAX_CELL ? text.substring(0, MAX_CELL - 1) + "…" : text;
  }
}
