package dev.postroom.smtp;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class HeloNameTest {
  private static InetAddress ip(String literal) throws Exception {
    return InetAddress.getByName(literal);
  }

  @Test
  void aFullyQualifiedHostNameIsUsedAsItIs() {
    assertThat(HeloName.choose("App1.Example.COM", "localhost", List.of(), a -> null))
        .isEqualTo("app1.example.com");
  }

  @Test
  void aShortHostNameGivesWayToItsCanonicalName() {
    assertThat(HeloName.choose("app1", "app1.example.com", List.of(), a -> null))
        .isEqualTo("app1.example.com");
  }

  @Test
  void withoutANameTheReverseNameOfAnInterfaceAddressIsUsed() throws Exception {
    Map<String, String> ptr = Map.of("192.0.2.25", "mail.example.net");
    assertThat(
            HeloName.choose(
                "app1",
                "localhost",
                List.of(ip("127.0.0.1"), ip("fe80::1"), ip("192.0.2.25")),
                a -> ptr.getOrDefault(a.getHostAddress(), a.getHostAddress())))
        .isEqualTo("mail.example.net");
  }

  @Test
  void theAddressLiteralIsTheLastResortAndNeverTheLoopbackWhenAnotherAddressExists()
      throws Exception {
    assertThat(
            HeloName.choose(
                "app1",
                "127.0.0.1",
                List.of(ip("127.0.0.1"), ip("2001:db8::5"), ip("192.0.2.25")),
                InetAddress::getHostAddress))
        .isEqualTo("[192.0.2.25]");
    assertThat(HeloName.choose("app1", "app1", List.of(ip("2001:db8::5")), a -> null))
        .isEqualTo("[IPv6:2001:db8:0:0:0:0:0:5]");
    assertThat(HeloName.choose(null, null, List.of(), a -> null)).isEqualTo("[127.0.0.1]");
  }

  @Test
  void localhostNamesAndDottedNumbersAreNotDomainNames() {
    assertThat(HeloName.isFqdn("localhost")).isFalse();
    assertThat(HeloName.isFqdn("localhost.localdomain")).isFalse();
    assertThat(HeloName.isFqdn("10.0.0.1")).isFalse();
    assertThat(HeloName.isFqdn("app1.example.com")).isTrue();
  }

  @Test
  void thisHostsNameIsAValidEhloArgument() {
    String name = HeloName.ofThisHost();
    assertThat(SmtpSettings.defaults(name).heloName()).isEqualTo(name);
  }
}
