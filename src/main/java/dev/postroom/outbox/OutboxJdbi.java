package dev.postroom.outbox;

import javax.sql.DataSource;
import org.jdbi.v3.core.Jdbi;
import org.jdbi.v3.core.statement.StatementExceptions;
import org.jdbi.v3.core.statement.StatementExceptions.MessageRendering;

/**
 * Jdbi set up for Postroom: a failing statement's exception carries the database's message only,
 * never the statement's bound values (addresses, bodies, passwords), which Jdbi renders by default.
 */
public final class OutboxJdbi {
  private OutboxJdbi() {}

  public static Jdbi create(DataSource dataSource) {
    return configure(Jdbi.create(dataSource));
  }

  /** Applies Postroom's exception rendering to an existing Jdbi and returns it. */
  public static Jdbi configure(Jdbi jdbi) {
    jdbi.getConfig(StatementExceptions.class).setMessageRendering(MessageRendering.NONE);
    return jdbi;
  }
}
