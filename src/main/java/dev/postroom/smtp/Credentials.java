package dev.postroom.smtp;

/**
 * What to authenticate with. {@code mechanism} null means the best mechanism both sides offer
 * (PLAIN, then LOGIN; XOAUTH2 is used only when named, because its secret is a token).
 */
public record Credentials(String username, String secret, AuthMechanism mechanism) {
  public Credentials {
    if (username == null || username.isEmpty()) {
      throw new IllegalArgumentException("SMTP username must not be empty");
    }
    if (secret == null) {
      throw new IllegalArgumentException("SMTP secret must not be null");
    }
    if (username.indexOf('\0') >= 0 || secret.indexOf('\0') >= 0) {
      throw new IllegalArgumentException("SMTP username and secret must not contain NUL");
    }
  }

  @Override
  public String toString() {
    return "Credentials[username=" + username + ", secret=<redacted>, mechanism=" + mechanism + "]";
  }
}
