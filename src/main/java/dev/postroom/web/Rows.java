package dev.postroom.web;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Runs a query on a visitor's connection and hands its rows to the templates as maps of column name
 * to display text: timestamps in UTC to the second, NULL as an empty string (templates test with
 * {@code {{#col}}}). The templates HTML-escape every value.
 */
final class Rows {
  static final DateTimeFormatter TIME =
      DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss").withZone(ZoneOffset.UTC);

  private Rows() {}

  static List<Map<String, Object>> query(Connection c, String sql, Object... params)
      throws SQLException {
    try (PreparedStatement st = c.prepareStatement(sql)) {
      for (int i = 0; i < params.length; i++) {
        st.setObject(i + 1, params[i]);
      }
      try (ResultSet rs = st.executeQuery()) {
        ResultSetMetaData meta = rs.getMetaData();
        List<Map<String, Object>> rows = new ArrayList<>();
        while (rs.next()) {
          Map<String, Object> row = new LinkedHashMap<>();
          for (int col = 1; col <= meta.getColumnCount(); col++) {
            row.put(meta.getColumnLabel(col), display(rs.getObject(col)));
          }
          rows.add(row);
        }
        return rows;
      }
    }
  }

  static Map<String, Object> one(Connection c, String sql, Object... params) throws SQLException {
    List<Map<String, Object>> rows = query(c, sql, params);
    return rows.isEmpty() ? null : rows.get(0);
  }

  private static Object display(Object value) {
    if (value == null) {
      return "";
    }
    if (value instanceof Timestamp t) {
      return TIME.format(t.toInstant());
    }
    if (value instanceof java.time.OffsetDateTime t) {
      return TIME.format(t.toInstant());
    }
    if (value instanceof Boolean b) {
      return b;
    }
    return value.toString();
  }
}
