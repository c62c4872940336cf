package dev.postroom.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

@Command(
    name = "postroom",
    mixinStandardHelpOptions = true,
    versionProvider = Version.class,
    description = "Send e-mail from PostgreSQL: an outbox, dispatchers and an SMTP client.",
    footer = {
      "",
      "Start with: postroom demo",
      "Exit codes: 0 success, 1 operational failure, 2 usage error."
    })
final class PostroomCommand implements Runnable {
  @Mixin GlobalOptions global;
  @Spec CommandSpec spec;

  PostroomCommand(CliContext ctx) {
    this.global = new GlobalOptions(ctx);
  }

  @Override
  public void run() {
    throw new ParameterException(spec.commandLine(), "a command is required");
  }
}
