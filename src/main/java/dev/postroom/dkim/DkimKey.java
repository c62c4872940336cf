package dev.postroom.dkim;

import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.interfaces.RSAKey;
import java.security.spec.PKCS8EncodedKeySpec;
import java.time.Instant;
import java.util.Locale;

/**
 * One signing key: the domain (d=) and selector (s=) it signs for and the private key. {@link
 * #toString()} names the key, never shows it.
 */
public final class DkimKey {
  /** RFC 8301 §3.2: verifiers must not accept smaller RSA keys. */
  public static final int MIN_RSA_BITS = 1024;

  private final String domain;
  private final String selector;
  private final DkimAlgorithm algorithm;
  private final PrivateKey privateKey;
  private final Instant createdAt;

  private DkimKey(
      String domain,
      String selector,
      DkimAlgorithm algorithm,
      PrivateKey privateKey,
      Instant createdAt) {
    this.domain = domain;
    this.selector = selector;
    this.algorithm = algorithm;
    this.privateKey = privateKey;
    this.createdAt = createdAt;
  }

  /**
   * A key from its PKCS#8 DER encoding, as {@code mail.dkim_key.private_key} holds it. Refuses RSA
   * keys under {@value #MIN_RSA_BITS} bits and keys of another type than the algorithm's; the
   * message names the key by selector and domain only.
   */
  public static DkimKey of(
      String domain, String selector, DkimAlgorithm algorithm, byte[] pkcs8, Instant createdAt) {
    String name = selector + "._domainkey." + domain;
    PrivateKey key;
    try {
      key =
          KeyFactory.getInstance(algorithm.keyAlgorithm())
              .generatePrivate(new PKCS8EncodedKeySpec(pkcs8));
    } catch (GeneralSecurityException | RuntimeException e) {
      throw new IllegalArgumentException(
          "DKIM key " + name + " is not a valid " + algorithm.tag() + " key");
    }
    if (key instanceof RSAKey rsa && rsa.getModulus().bitLength() < MIN_RSA_BITS) {
      throw new IllegalArgumentException(
          "DKIM key "
              + name
              + " has "
              + rsa.getModulus().bitLength()
              + " bits; RSA keys need at least "
              + MIN_RSA_BITS);
    }
    return new DkimKey(
        domain.toLowerCase(Locale.ROOT),
        selector.toLowerCase(Locale.ROOT),
        algorithm,
        key,
        createdAt);
  }

  public String domain() {
    return domain;
  }

  public String selector() {
    return selector;
  }

  public DkimAlgorithm algorithm() {
    return algorithm;
  }

  public Instant createdAt() {
    return createdAt;
  }

  PrivateKey privateKey() {
    return privateKey;
  }

  @Override
  public String toString() {
    return "DkimKey[" + selector + "._domainkey." + domain + ", " + algorithm.tag() + "]";
  }
}
