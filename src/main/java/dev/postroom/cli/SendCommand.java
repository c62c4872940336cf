package dev.postroom.cli;

import java.io.IOException;
import java.net.URLConnection;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

@Command(
    name = "send",
    mixinStandardHelpOptions = true,
    description = {
      "Enqueue a mail through mail.send and print its id.",
      "A running dispatcher delivers it; follow it with: postroom status ID"
    })
final class SendCommand implements Callable<Integer> {
  private final CliContext ctx;
  @Mixin GlobalOptions global;
  @Spec CommandSpec spec;

  @Option(
      names = "--to",
      required = true,
      paramLabel = "ADDRESS",
      description = "Recipient; repeat, or separate with ';' or ','. 'Name <addr>' works.")
  List<String> to;

  @Option(names = "--cc", paramLabel = "ADDRESS", description = "Copy recipient; repeatable.")
  List<String> cc = List.of();

  @Option(names = "--bcc", paramLabel = "ADDRESS", description = "Blind copy; repeatable.")
  List<String> bcc = List.of();

  @Option(names = "--subject", paramLabel = "TEXT", description = "The subject line.")
  String subject;

  @ArgGroup(multiplicity = "1")
  Body body;

  static final class Body {
    @Option(names = "--body", paramLabel = "TEXT", description = "The body.")
    String text;

    @Option(names = "--body-file", paramLabel = "FILE", description = "Read the body (UTF-8).")
    Path file;
  }

  @Option(names = "--html", description = "The body is HTML (default: plain text).")
  boolean html;

  @Option(names = "--attach", paramLabel = "FILE", description = "Attach a file; repeatable.")
  List<Path> attachments = List.of();

  @Option(names = "--profile", paramLabel = "NAME", description = "Default: the default profile.")
  String profile;

  @Option(names = "--from", paramLabel = "ADDRESS", description = "Default: the account's.")
  String from;

  @Option(names = "--reply-to", paramLabel = "ADDRESS")
  String replyTo;

  @Option(
      names = "--importance",
      paramLabel = "LEVEL",
      description = "low, normal (default) or high.")
  String importance;

  @Option(names = "--priority", paramLabel = "N", description = "Higher goes first (default 0).")
  Integer priority;

  @Option(
      names = "--send-at",
      paramLabel = "TIME",
      description = "Not before this time, e.g. 2026-12-01T09:00:00+01:00.")
  OffsetDateTime sendAt;

  @Option(
      names = "--idempotency-key",
      paramLabel = "KEY",
      description = "Sending again with the same key returns the first mail's id.")
  String idempotencyKey;

  SendCommand(CliContext ctx) {
    this.ctx = ctx;
    this.global = new GlobalOptions(ctx);
  }

  @Override
  public Integer call() throws SQLException {
    ctx.logging();
    String bodyText = body.text != null ? body.text : read(body.file, "--body-file");
    List<SendRequest.Attachment> files = new ArrayList<>();
    for (Path path : attachments) {
      files.add(attachment(path));
    }
    SendRequest request =
        new SendRequest(
            join(to),
            join(cc),
            join(bcc),
            subject,
            bodyText,
            html,
            profile,
            from,
            replyTo,
            importance,
            priority,
            sendAt,
            idempotencyKey,
            files);
    try (Connection c = ctx.database().connect()) {
      ctx.out.println(request.send(c));
    }
    return Main.OK;
  }

  private static String join(List<String> addresses) {
    return addresses.isEmpty() ? null : String.join("; ", addresses);
  }

  private SendRequest.Attachment attachment(Path path) {
    byte[] content = readBytes(path, "--attach");
    String type = null;
    try {
      type = Files.probeContentType(path);
    } catch (IOException e) {
      // fall through to the name-based guess
    }
    if (type == null) {
      type = URLConnection.guessContentTypeFromName(path.getFileName().toString());
    }
    return new SendRequest.Attachment(
        path.getFileName().toString(), type == null ? "application/octet-stream" : type, content);
  }

  private String read(Path path, String option) {
    return new String(readBytes(path, option), StandardCharsets.UTF_8);
  }

  private byte[] readBytes(Path path, String option) {
    try {
      return Files.readAllBytes(path);
    } catch (IOException e) {
      String reason = e instanceof NoSuchFileException ? "no such file" : e.toString();
      throw new ParameterException(
          spec.commandLine(), option + ": cannot read " + path + ": " + reason);
    }
  }
}
