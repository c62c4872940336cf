package dev.postroom.dkim;

import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.Signature;

/** The two signing algorithms DKIM verifiers accept today (RFC 8301 retired rsa-sha1). */
public enum DkimAlgorithm {
  RSA_SHA256("rsa-sha256", "RSA"),
  /** RFC 8463: PureEdDSA over the SHA-256 hash of the canonicalized header data. */
  ED25519_SHA256("ed25519-sha256", "Ed25519");

  private final String tag;
  private final String keyAlgorithm;

  DkimAlgorithm(String tag, String keyAlgorithm) {
    this.tag = tag;
    this.keyAlgorithm = keyAlgorithm;
  }

  /** The a= tag value, as mail.dkim_key stores it. */
  public String tag() {
    return tag;
  }

  /** The JCA key algorithm name. */
  String keyAlgorithm() {
    return keyAlgorithm;
  }

  public static DkimAlgorithm ofTag(String tag) {
    for (DkimAlgorithm a : values()) {
      if (a.tag.equals(tag)) {
        return a;
      }
    }
    throw new IllegalArgumentException(
        "unknown DKIM algorithm " + tag + " (expected rsa-sha256 or ed25519-sha256)");
  }

  /** The b= signature of the canonicalized header data. */
  byte[] sign(PrivateKey key, byte[] data) throws GeneralSecurityException {
    Signature signature;
    byte[] input = data;
    if (this == RSA_SHA256) {
      signature = Signature.getInstance("SHA256withRSA");
    } else {
      signature = Signature.getInstance("Ed25519");
      input = MessageDigest.getInstance("SHA-256").digest(data);
    }
    signature.initSign(key);
    signature.update(input);
    return signature.sign();
  }
}
