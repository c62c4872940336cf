package dev.postroom.dispatch;

/**
 * An account's stored settings cannot be used (a username without a password, a HELO name that is
 * not a domain, an unknown TLS mode). At delivery time this is an account failure: the mail fails
 * over to the profile's next account and the reason is recorded.
 */
public final class AccountConfigException extends IllegalArgumentException {
  AccountConfigException(String account, String problem, Throwable cause) {
    super("account " + account + " cannot be used: " + problem, cause);
  }
}
