package dev.postroom.cli;

import dev.postroom.config.Environment;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/** Runs {@link Main} in-process with captured output, as a shell would see it. */
final class Cli {
  /** No PG* variables: only what a test passes with --db counts. */
  static final Environment CLEAN = Environment.of(Map.of(), "root");

  record Result(int code, String out, String err) {}

  private Cli() {}

  static Result run(String... args) {
    return run(CLEAN, args);
  }

  static Result run(Environment env, String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code;
    try (PrintStream o = new PrintStream(out, true, StandardCharsets.UTF_8);
        PrintStream e = new PrintStream(err, true, StandardCharsets.UTF_8)) {
      code = Main.execute(args, env, o, e);
    }
    return new Result(
        code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
  }

  /** The rows of a one-column query, for assertions on what a command wrote. */
  static <T> java.util.List<T> rows(
      dev.postroom.testing.TestDatabase db, String sql, Class<T> type) {
    return db.jdbi().withHandle(h -> h.select(sql).mapTo(type).list());
  }
}
