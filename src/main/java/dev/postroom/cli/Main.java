package dev.postroom.cli;

import dev.postroom.config.ConfigException;
import dev.postroom.config.Environment;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import picocli.CommandLine;
import picocli.CommandLine.ParameterException;

/**
 * The {@code postroom} program. Exit codes: {@value #OK} success, {@value #FAILURE} operational
 * failure (database or server unreachable, a refused send, an unknown mail), {@value #USAGE} usage
 * error (unknown option, missing argument, malformed setting). Errors are one line on standard
 * error; {@code --verbose} adds the stack trace.
 */
public final class Main {
  public static final int OK = 0;
  public static final int FAILURE = 1;
  public static final int USAGE = 2;

  private Main() {}

  public static void main(String[] args) {
    PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
    PrintStream err = new PrintStream(System.err, true, StandardCharsets.UTF_8);
    int code = execute(args, Environment.system(), out, err);
    out.flush();
    err.flush();
    System.exit(code);
  }

  /** Runs one command line to completion and returns its exit code; never calls System.exit. */
  public static int execute(String[] args, Environment env, PrintStream out, PrintStream err) {
    CliContext ctx = new CliContext(out, err, env);
    CommandLine cli = commandLine(ctx);
    try {
      return cli.execute(args);
    } finally {
      out.flush();
      err.flush();
      ctx.closeLogging();
    }
  }

  static CommandLine commandLine(CliContext ctx) {
    CommandLine cli = new CommandLine(new PostroomCommand(ctx));
    cli.addSubcommand(new MigrateCommand(ctx));
    cli.addSubcommand(new RunCommand(ctx));
    cli.addSubcommand(new SendCommand(ctx));
    cli.addSubcommand(new StatusCommand(ctx));
    CommandLine account = new CommandLine(new AccountCommand(ctx));
    account.addSubcommand(new AccountAddCommand(ctx));
    account.addSubcommand(new AccountListCommand(ctx));
    account.addSubcommand(new AccountTestCommand(ctx));
    cli.addSubcommand(account);
    cli.addSubcommand(new WebCommand(ctx));
    CommandLine template = new CommandLine(new TemplateCommand(ctx));
    template.addSubcommand(new TemplateRenderCommand(ctx));
    cli.addSubcommand(template);
    cli.addSubcommand(new DemoCommand(ctx));
    cli.setOut(new PrintWriter(ctx.out, true));
    cli.setErr(new PrintWriter(ctx.err, true));
    cli.setCaseInsensitiveEnumValuesAllowed(true);
    cli.setParameterExceptionHandler((ParameterException e, String[] args) -> {
      CommandLine failed = e.getCommandLine();
      ctx.err.println("postroom: " + e.getMessage());
      ctx.err.println("Try '" + failed.getCommandSpec().qualifiedName() + " --help'.");
      return USAGE;
    });
    cli.setExecutionExceptionHandler((e, failed, parsed) -> {
      if (e instanceof ConfigException) {
        ctx.err.println("postroom: " + e.getMessage());
        return USAGE;
      }
      ctx.err.println("postroom: " + Errors.describe(e, safeDatabase(ctx)));
      if (ctx.verbose) {
        e.printStackTrace(ctx.err);
      }
      return FAILURE;
    });
    return cli;
  }

  private static dev.postroom.config.DatabaseConfig safeDatabase(CliContext ctx) {
    try {
      return ctx.database();
    } catch (ConfigException e) {
      return null;
    }
  }
}
