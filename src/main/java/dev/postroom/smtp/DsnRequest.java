package dev.postroom.smtp;

import java.util.EnumSet;
import java.util.Set;

/**
 * Delivery status notification parameters (RFC 3461), sent only when the server advertises DSN.
 *
 * @param notifyOn NOTIFY for every recipient; empty for none, {@code NEVER} alone or any of the
 *     others
 * @param ret RET=FULL or HDRS; null to leave it to the server
 * @param envelopeId ENVID; null for none; sent as xtext
 */
public record DsnRequest(Set<DsnRequest.Notify> notifyOn, DsnRequest.Ret ret, String envelopeId) {
  public enum Notify {
    NEVER,
    SUCCESS,
    FAILURE,
    DELAY
  }

  public enum Ret {
    FULL,
    HDRS
  }

  public DsnRequest {
    notifyOn =
        notifyOn == null || notifyOn.isEmpty() ? Set.of() : Set.copyOf(EnumSet.copyOf(notifyOn));
    if (notifyOn.contains(Notify.NEVER) && notifyOn.size() > 1) {
      throw new IllegalArgumentException("NOTIFY=NEVER cannot be combined with other values");
    }
    if (envelopeId != null) {
      if (envelopeId.isEmpty() || envelopeId.length() > 100) {
        throw new IllegalArgumentException("DSN envelope id must be 1-100 characters");
      }
      if (envelopeId.chars().anyMatch(c -> c < 0x21 || c > 0x7e)) {
        throw new IllegalArgumentException(
            "DSN envelope id must be printable ASCII without spaces, got '" + envelopeId + "'");
      }
    }
  }
}
