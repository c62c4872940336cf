package dev.postroom.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

@Command(
    name = "template",
    mixinStandardHelpOptions = true,
    description = "Work with the Mustache templates stored in mail.template.")
final class TemplateCommand implements Runnable {
  @Mixin GlobalOptions global;
  @Spec CommandSpec spec;

  TemplateCommand(CliContext ctx) {
    this.global = new GlobalOptions(ctx);
  }

  @Override
  public void run() {
    throw new ParameterException(spec.commandLine(), "a subcommand is required: render");
  }
}
