package dev.postroom.dkim;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Runs src/test/resources/dkim/verify.py: dkimpy (Debian's python3-dkim), not Postroom's code,
 * checks every DKIM-Signature of a message against the DNS records given.
 */
public final class DkimVerifier {
  /** What the verifier said: its exit status and one line per signature. */
  public record Result(int exit, String output) {
    public boolean passed() {
      return exit == 0;
    }
  }

  private static String python;

  private DkimVerifier() {}

  /** Verifies {@code message} with the records (name like sel._domainkey.example.com to TXT). */
  public static Result verify(byte[] message, Map<String, String> records) throws Exception {
    Path dir = Files.createTempDirectory("dkim-verify");
    try {
      Path script = dir.resolve("verify.py");
      try (InputStream in = DkimVerifier.class.getResourceAsStream("/dkim/verify.py")) {
        Files.write(script, in.readAllBytes());
      }
      Path file = dir.resolve("message.eml");
      Files.write(file, message);
      List<String> command = new ArrayList<>(List.of(python(), script.toString(), file.toString()));
      records.forEach((name, txt) -> command.add(name + "=" + txt));
      Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("verifier finished").isTrue();
      return new Result(p.exitValue(), out.strip());
    } finally {
      try (var files = Files.list(dir)) {
        for (Path f : files.toList()) {
          Files.deleteIfExists(f);
        }
      }
      Files.deleteIfExists(dir);
    }
  }

  /** The first python3 that imports dkim; fails the test (not skips it) when there is none. */
  static synchronized String python() throws IOException, InterruptedException {
    if (python != null) {
      return python;
    }
    for (String candidate : List.of("/usr/bin/python3", "python3")) {
      try {
        Process p =
            new ProcessBuilder(candidate, "-c", "import dkim, nacl")
                .redirectErrorStream(true)
                .start();
        p.getInputStream().readAllBytes();
        if (p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0) {
          python = candidate;
          return python;
        }
      } catch (IOException notThere) {
        // try the next one
      }
    }
    throw new AssertionError(
        "no python3 with dkimpy: apt-get install -y python3-dkim (.ci/run does this)");
  }
}
