package dev.postroom.mx;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

import org.junit.jupiter.api.Test;

class IdnTest {

  @Test
  void internationalDomainBecomesItsLowerCaseAsciiForm() {
    assertThat(Idn.toAscii("bücher.example")).isEqualTo("xn--bcher-kva.example");
    assertThat(Idn.toAscii("Bücher.Example.")).isEqualTo("xn--bcher-kva.example");
    assertThat(Idn.toAscii("MAIL.Example.COM")).isEqualTo("mail.example.com");
  }

  @Test
  void invalidDomainsAreRefusedNamingTheDomain() {
    assertThatIllegalArgumentException()
        .isThrownBy(() -> Idn.toAscii("exa mple.com"))
        .withMessageStartingWith("\"exa mple.com\" is not a valid domain name");
    assertThatIllegalArgumentException()
        .isThrownBy(() -> Idn.toAscii(""))
        .withMessage("\"\" is not a valid domain name: it is empty");
    assertThatIllegalArgumentException()
        .isThrownBy(() -> Idn.toAscii("a..example"))
        .withMessageStartingWith("\"a..example\" is not a valid domain name");
    assertThatIllegalArgumentException()
        .isThrownBy(() -> Idn.toAscii("-dash.example"))
        .withMessageStartingWith("\"-dash.example\"");
    assertThatIllegalArgumentException()
        .isThrownBy(() -> Idn.toAscii("x".repeat(64) + ".example"))
        .withMessageContaining("is not a valid domain name");
  }

  @Test
  void onlyANonAsciiLocalPartNeedsSmtpUtf8() {
    assertThat(Idn.needsSmtpUtf8("jörg@example.com")).isTrue();
    assertThat(Idn.needsSmtpUtf8("info@bücher.example")).isFalse();
    assertThat(Idn.needsSmtpUtf8("\"a@b\"@example.com")).isFalse();
    assertThatIllegalArgumentException()
        .isThrownBy(() -> Idn.needsSmtpUtf8("no-at-sign"))
        .withMessageContaining("no '@'");
  }
}
