package dev.postroom.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

@Command(
    name = "account",
    mixinStandardHelpOptions = true,
    description = "Add, list and test the SMTP accounts dispatchers send through.")
final class AccountCommand implements Runnable {
  @Mixin GlobalOptions global;
  @Spec CommandSpec spec;

  AccountCommand(CliContext ctx) {
    this.global = new GlobalOptions(ctx);
  }

  @Override
  public void run() {
    throw new ParameterException(spec.commandLine(), "a subcommand is required: add, list or test");
  }
}
