package dev.postroom.dispatch;

import java.sql.Connection;
import java.sql.SQLException;

/** Opens a dedicated, non-pooled connection (the dispatcher's LISTEN session needs one). */
@FunctionalInterface
public interface ConnectionFactory {
  Connection open() throws SQLException;
}
