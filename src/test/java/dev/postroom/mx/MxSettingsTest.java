package dev.postroom.mx;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class MxSettingsTest {

  @Test
  void parsesIPv4AndBracketedIPv6ServersWithPorts() {
    MxSettings settings = MxSettings.parse("127.0.0.1:5353, [::1]:53");

    assertThat(settings.dnsServers())
        .containsExactly(
            new InetSocketAddress(MxResolverTest.ip("127.0.0.1"), 5353),
            new InetSocketAddress(MxResolverTest.ip("::1"), 53));
    assertThat(settings.timeout()).isEqualTo(MxSettings.DEFAULT_TIMEOUT);
    assertThat(settings.retries()).isEqualTo(MxSettings.DEFAULT_RETRIES);
  }

  @Test
  void serverWithoutPortUsesPort53() {
    assertThat(MxSettings.parse("192.0.2.53,2001:db8::53,[2001:db8::54]").dnsServers())
        .extracting(InetSocketAddress::getPort)
        .containsExactly(53, 53, 53);
  }

  @Test
  void blankListMeansTheSystemResolvers() {
    assertThat(MxSettings.parse("  ")).isEqualTo(MxSettings.system());
    assertThat(MxSettings.system().dnsServers()).isEmpty();
  }

  @Test
  void badEntriesAreRefusedNamingTheEntry() {
    assertThatIllegalArgumentException()
        .isThrownBy(() -> MxSettings.parse("127.0.0.1:53, 127.0.0.1:99999"))
        .withMessage("dns_servers entry \"127.0.0.1:99999\" has port 99999 outside 1..65535");
    assertThatIllegalArgumentException()
        .isThrownBy(() -> MxSettings.parse("dns.example:53"))
        .withMessageContaining("\"dns.example:53\"")
        .withMessageContaining("host names are not accepted");
    assertThatIllegalArgumentException()
        .isThrownBy(() -> MxSettings.parse("[::1:53"))
        .withMessage("dns_servers entry \"[::1:53\" lacks the closing ']'");
    assertThatIllegalArgumentException()
        .isThrownBy(() -> MxSettings.parse("127.0.0.1:dns"))
        .withMessage("dns_servers entry \"127.0.0.1:dns\" has port \"dns\", which is not a number");
    assertThatIllegalArgumentException()
        .isThrownBy(() -> MxSettings.parse("127.0.0.1,"))
        .withMessage("dns_servers entry \"\" is empty");
    assertThatIllegalArgumentException()
        .isThrownBy(() -> MxSettings.parse("1.2.3:53"))
        .withMessageContaining("\"1.2.3:53\"");
    assertThatIllegalArgumentException()
        .isThrownBy(() -> MxSettings.parse("[::1]53"))
        .withMessageContaining("\"[::1]53\"");
  }

  @Test
  void timeoutAndRetriesAreValidated() {
    assertThatIllegalArgumentException()
        .isThrownBy(() -> MxSettings.system().withTimeout(Duration.ZERO))
        .withMessageContaining("PT0S");
    assertThatIllegalArgumentException()
        .isThrownBy(() -> MxSettings.system().withTimeout(Duration.ofMinutes(5)))
        .withMessageContaining("PT5M");
    assertThatIllegalArgumentException()
        .isThrownBy(() -> MxSettings.system().withRetries(-1))
        .withMessageContaining("-1");
    assertThatIllegalArgumentException()
        .isThrownBy(() ->
            new MxSettings(
                List.of(InetSocketAddress.createUnresolved("dns.example", 53)),
                Duration.ofSeconds(1),
                0))
        .withMessageContaining("dns.example");
  }
}
