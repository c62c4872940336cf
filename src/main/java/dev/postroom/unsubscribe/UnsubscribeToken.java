package dev.postroom.unsubscribe;

import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.Base64;
import java.util.Locale;
import java.util.Optional;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The unsubscribe token of one list mail's recipient: version, profile id, mail id and the
 * lower-cased address, followed by their HMAC-SHA256 under the database's secret, in unpadded
 * base64url. Self-contained, so it stays valid after the mail is purged; authenticated, not
 * encrypted (the address is readable to whoever holds the link, which is its recipient).
 */
public final class UnsubscribeToken {
  /** Who a valid token unsubscribes: the address from the list mail of that profile. */
  public record Subscriber(int profileId, long mailId, String address) {}

  private static final byte VERSION = 1;
  private static final int MAC_LENGTH = 32;
  private static final int HEADER = 1 + 4 + 8;

  /** Longer tokens are refused before any work (an address has at most 254 octets, RFC 5321). */
  public static final int MAX_LENGTH = 512;

  private final byte[] secret;

  public UnsubscribeToken(byte[] secret) {
    if (secret == null || secret.length < 32) {
      throw new IllegalArgumentException("the unsubscribe secret must have at least 32 octets");
    }
    this.secret = secret.clone();
  }

  public String create(int profileId, long mailId, String address) {
    byte[] addr = address.toLowerCase(Locale.ROOT).getBytes(StandardCharsets.UTF_8);
    ByteBuffer payload = ByteBuffer.allocate(HEADER + addr.length + MAC_LENGTH);
    payload.put(VERSION).putInt(profileId).putLong(mailId).put(addr);
    payload.put(mac(payload.array(), HEADER + addr.length));
    return Base64.getUrlEncoder().withoutPadding().encodeToString(payload.array());
  }

  /** The subscriber a token names, or empty when it is malformed, altered or forged. */
  public Optional<Subscriber> verify(String token) {
    if (token == null || token.isEmpty() || token.length() > MAX_LENGTH) {
      return Optional.empty();
    }
    byte[] bytes;
    try {
      bytes = Base64.getUrlDecoder().decode(token);
    } catch (IllegalArgumentException notBase64) {
      return Optional.empty();
    }
    if (bytes.length < HEADER + 3 + MAC_LENGTH || bytes[0] != VERSION) {
      return Optional.empty();
    }
    int signedLength = bytes.length - MAC_LENGTH;
    byte[] expected = mac(bytes, signedLength);
    if (!MessageDigest.isEqual(expected, Arrays.copyOfRange(bytes, signedLength, bytes.length))) {
      return Optional.empty();
    }
    // the token must be the one create() makes, octet for octet (no alternative encodings)
    if (!Base64.getUrlEncoder().withoutPadding().encodeToString(bytes).equals(token)) {
      return Optional.empty();
    }
    ByteBuffer b = ByteBuffer.wrap(bytes);
    b.get();
    int profileId = b.getInt();
    long mailId = b.getLong();
    try {
      CharBuffer address =
          StandardCharsets.UTF_8
              .newDecoder()
              .onMalformedInput(CodingErrorAction.REPORT)
              .decode(ByteBuffer.wrap(bytes, HEADER, signedLength - HEADER));
      return Optional.of(new Subscriber(profileId, mailId, address.toString()));
    } catch (CharacterCodingException e) {
      return Optional.empty();
    }
  }

  private byte[] mac(byte[] data, int length) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(secret, "HmacSHA256"));
      mac.update(data, 0, length);
      return mac.doFinal();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("the JDK has no HmacSHA256", e);
    }
  }

  @Override
  public String toString() {
    return "UnsubscribeToken[secret hidden]";
  }
}
