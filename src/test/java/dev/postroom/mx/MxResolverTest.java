package dev.postroom.mx;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class MxResolverTest {
  private FakeDnsServer dns;
  private MxResolver resolver;

  @BeforeEach
  void start() {
    dns = FakeDnsServer.start();
    resolver = new MxResolver(dns.settings(), new Random(7), Clock.systemUTC());
  }

  @AfterEach
  void stop() {
    dns.close();
  }

  @Test
  void mxHostsComeInPreferenceOrder() {
    dns.mx("example.test", 20, "b.example.test")
        .mx("example.test", 10, "a.example.test")
        .mx("example.test", 30, "c.example.test")
        .a("a.example.test", "127.0.0.1")
        .a("b.example.test", "127.0.0.2")
        .a("c.example.test", "127.0.0.3");

    MxRoute.Hosts route = (MxRoute.Hosts) resolver.resolve("example.test");

    assertThat(route.domain()).isEqualTo("example.test");
    assertThat(route.hosts())
        .extracting(MxHost::name, MxHost::preference, MxHost::implicit)
        .containsExactly(
            tuple("a.example.test", 10, false),
            tuple("b.example.test", 20, false),
            tuple("c.example.test", 30, false));
    assertThat(route.hosts().getFirst().addresses()).containsExactly(ip("127.0.0.1"));
  }

  @Test
  void equalPreferencesAreShuffledOnEveryCallRepeatablyForASeed() {
    dns.mx("example.test", 10, "first.example.test").a("first.example.test", "127.0.0.1");
    for (String name : List.of("b", "c", "d")) {
      dns.mx("example.test", 20, name + ".example.test").a(name + ".example.test", "127.0.0.2");
    }
    dns.mx("example.test", 30, "last.example.test").a("last.example.test", "127.0.0.3");
    MxResolver sameSeed = new MxResolver(dns.settings(), new Random(7), Clock.systemUTC());

    Set<String> seenSecond = new HashSet<>();
    for (int i = 0; i < 30; i++) {
      List<String> names = names(resolver.resolve("example.test"));
      assertThat(names).isEqualTo(names(sameSeed.resolve("example.test")));
      assertThat(names.getFirst()).isEqualTo("first.example.test");
      assertThat(names.subList(1, 4))
          .containsExactlyInAnyOrder("b.example.test", "c.example.test", "d.example.test");
      assertThat(names.getLast()).isEqualTo("last.example.test");
      seenSecond.add(names.get(1));
    }
    assertThat(seenSecond).hasSize(3);
  }

  @Test
  void everyAddressOfAHostComesBeforeTheNextHostIPv4First() {
    dns.mx("example.test", 10, "mx1.example.test")
        .mx("example.test", 20, "mx2.example.test")
        .aaaa("mx1.example.test", "2001:db8::25")
        .a("mx1.example.test", "127.0.0.1")
        .a("mx1.example.test", "127.0.0.2")
        .a("mx2.example.test", "127.0.0.3");

    MxRoute.Hosts route = (MxRoute.Hosts) resolver.resolve("example.test");

    assertThat(route.hosts().get(0).addresses())
        .containsExactly(ip("127.0.0.1"), ip("127.0.0.2"), ip("2001:db8::25"));
    assertThat(route.hosts().get(1).addresses()).containsExactly(ip("127.0.0.3"));
  }

  @Test
  void hostWithOnlyIPv6AddressesIsUsable() {
    dns.mx("example.test", 10, "v6.example.test").aaaa("v6.example.test", "::1");

    MxRoute.Hosts route = (MxRoute.Hosts) resolver.resolve("example.test");

    assertThat(route.hosts().getFirst().addresses())
        .singleElement()
        .isInstanceOf(Inet6Address.class)
        .isEqualTo(ip("::1"));
  }

  @Test
  void domainWithoutMxRecordsIsItsOwnImplicitMx() {
    dns.a("plain.test", "127.0.0.9").aaaa("plain.test", "::1");

    MxRoute route = resolver.resolve("plain.test");

    assertThat(route)
        .isEqualTo(
            new MxRoute.Hosts(
                "plain.test",
                List.of(new MxHost("plain.test", 0, List.of(ip("127.0.0.9"), ip("::1")), true))));
  }

  @Test
  void domainWithoutMxAndWithoutAddressesHasNoUsableHosts() {
    dns.txt("textonly.test", "v=spf1 -all");

    MxRoute route = resolver.resolve("textonly.test");

    assertThat(route).isInstanceOf(MxRoute.NoUsableHosts.class);
    assertThat(((MxRoute.NoUsableHosts) route).reason())
        .isEqualTo("textonly.test has no MX records and no A or AAAA records");
  }

  @Test
  void nullMxMeansTheDomainTakesNoMailAndNoAddressIsLookedUp() {
    dns.nullMx("nomail.test").a("nomail.test", "127.0.0.1");

    MxRoute route = resolver.resolve("nomail.test");

    assertThat(route).isEqualTo(new MxRoute.NullMx("nomail.test"));
    assertThat(MxRoute.NullMx.ENHANCED_STATUS).isEqualTo("5.1.10");
    assertThat(dns.queries()).containsExactly("MX nomail.test.");
  }

  @Test
  void nullMxTargetAmongOtherMxRecordsIsSkipped() {
    dns.nullMx("mixed.test").mx("mixed.test", 10, "mx.mixed.test").a("mx.mixed.test", "127.0.0.1");

    assertThat(names(resolver.resolve("mixed.test"))).containsExactly("mx.mixed.test");
  }

  @Test
  void nonexistentDomainIsNoSuchDomain() {
    dns.nxdomain("gone.test");

    assertThat(resolver.resolve("gone.test")).isEqualTo(new MxRoute.NoSuchDomain("gone.test"));
    assertThat(resolver.resolve("never-heard-of.test"))
        .isEqualTo(new MxRoute.NoSuchDomain("never-heard-of.test"));
  }

  @Test
  void serverFailureIsTemporary() {
    dns.servfail("broken.test");

    MxRoute route = resolver.resolve("broken.test");

    assertThat(route).isInstanceOf(MxRoute.TemporaryFailure.class);
    assertThat(((MxRoute.TemporaryFailure) route).reason()).contains("MX", "SERVFAIL");
  }

  @Test
  void serverThatNeverAnswersIsTemporary() {
    dns.silent("slow.test");
    MxSettings settings = dns.settings().withTimeout(Duration.ofMillis(200)).withRetries(0);

    MxRoute route = new MxResolver(settings).resolve("slow.test");

    assertThat(route).isInstanceOf(MxRoute.TemporaryFailure.class);
    assertThat(((MxRoute.TemporaryFailure) route).reason())
        .isEqualTo("MX lookup of slow.test: no answer (timed out or network error)");
  }

  @Test
  void silentServerIsAskedAgainForEachRetry() {
    dns.silent("slow.test");
    MxSettings settings = dns.settings().withTimeout(Duration.ofSeconds(1)).withRetries(1);

    assertThat(new MxResolver(settings).resolve("slow.test"))
        .isInstanceOf(MxRoute.TemporaryFailure.class);
    assertThat(dns.queries()).containsExactly("MX slow.test.", "MX slow.test.");
  }

  @Test
  void anotherServerAnswersWhenOneIsSilent() {
    dns.mx("example.test", 10, "mx.example.test").a("mx.example.test", "127.0.0.1");
    try (FakeDnsServer silent = FakeDnsServer.start()) {
      silent.silent("example.test").silent("mx.example.test");
      MxSettings settings =
          new MxSettings(List.of(silent.address(), dns.address()), Duration.ofSeconds(1), 0);

      assertThat(names(new MxResolver(settings).resolve("example.test")))
          .containsExactly("mx.example.test");
    }
  }

  @Test
  void routesAreCachedForTheirTtlByTheInjectedClock() {
    MutableClock clock = new MutableClock();
    MxResolver caching = new MxResolver(dns.settings(), new Random(7), clock);
    dns.ttl(60).mx("example.test", 10, "old.example.test").a("old.example.test", "127.0.0.1");
    assertThat(names(caching.resolve("example.test"))).containsExactly("old.example.test");

    dns.reset();
    dns.mx("example.test", 10, "new.example.test").a("new.example.test", "127.0.0.2");
    clock.advance(Duration.ofSeconds(59));
    assertThat(names(caching.resolve("example.test"))).containsExactly("old.example.test");
    assertThat(dns.queries()).isEmpty();

    clock.advance(Duration.ofSeconds(1));
    assertThat(names(caching.resolve("example.test"))).containsExactly("new.example.test");
  }

  @Test
  void routeMissingAHostThatFailedForNowIsNotCached() {
    MutableClock clock = new MutableClock();
    MxResolver caching = new MxResolver(dns.settings(), new Random(7), clock);
    dns.ttl(60)
        .mx("example.test", 10, "flaky.example.test")
        .mx("example.test", 20, "backup.example.test")
        .a("backup.example.test", "127.0.0.2")
        .servfail("flaky.example.test");
    assertThat(names(caching.resolve("example.test"))).containsExactly("backup.example.test");

    dns.reset();
    dns.mx("example.test", 10, "flaky.example.test")
        .mx("example.test", 20, "backup.example.test")
        .a("flaky.example.test", "127.0.0.1")
        .a("backup.example.test", "127.0.0.2");
    assertThat(names(caching.resolve("example.test")))
        .containsExactly("flaky.example.test", "backup.example.test");
  }

  @Test
  void failuresAreNotCached() {
    MutableClock clock = new MutableClock();
    MxResolver caching = new MxResolver(dns.settings(), new Random(7), clock);
    dns.ttl(60).servfail("example.test");
    assertThat(caching.resolve("example.test")).isInstanceOf(MxRoute.TemporaryFailure.class);

    dns.reset();
    dns.mx("example.test", 10, "mx.example.test").a("mx.example.test", "127.0.0.1");
    assertThat(names(caching.resolve("example.test"))).containsExactly("mx.example.test");
  }

  @Test
  void mxTargetsThatDoNotResolveAreSkipped() {
    dns.mx("example.test", 10, "dead.example.test")
        .mx("example.test", 20, "noaddress.example.test")
        .mx("example.test", 30, "live.example.test")
        .nxdomain("dead.example.test")
        .mx("noaddress.example.test", 10, "elsewhere.test")
        .a("live.example.test", "127.0.0.1");

    assertThat(names(resolver.resolve("example.test"))).containsExactly("live.example.test");
  }

  @Test
  void mxTargetsNoneOfWhichResolveLeaveNoUsableHosts() {
    dns.mx("example.test", 10, "dead.example.test").mx("example.test", 20, "gone.example.test");

    MxRoute route = resolver.resolve("example.test");

    assertThat(route).isInstanceOf(MxRoute.NoUsableHosts.class);
    assertThat(((MxRoute.NoUsableHosts) route).reason())
        .contains("dead.example.test", "gone.example.test");
  }

  @Test
  void mxTargetWhoseLookupFailsTemporarilyMakesTheRouteTemporaryWhenNoOtherResolves() {
    dns.mx("example.test", 10, "flaky.example.test").mx("example.test", 20, "gone.example.test");
    dns.servfail("flaky.example.test");

    MxRoute route = resolver.resolve("example.test");

    assertThat(route).isInstanceOf(MxRoute.TemporaryFailure.class);
    assertThat(((MxRoute.TemporaryFailure) route).reason()).contains("flaky.example.test");
  }

  @Test
  void cnameChainsAreFollowedForTheDomainAndForMxTargets() {
    dns.cname("alias.test", "real.test")
        .mx("real.test", 10, "mx-alias.real.test")
        .cname("mx-alias.real.test", "mx.real.test")
        .a("mx.real.test", "127.0.0.5");

    MxRoute.Hosts route = (MxRoute.Hosts) resolver.resolve("alias.test");

    assertThat(route.domain()).isEqualTo("alias.test");
    assertThat(route.hosts().getFirst().addresses()).containsExactly(ip("127.0.0.5"));
  }

  @Test
  void internationalDomainIsAskedInItsAsciiForm() {
    dns.mx("xn--bcher-kva.example", 10, "mx.xn--bcher-kva.example")
        .a("mx.xn--bcher-kva.example", "127.0.0.1");

    MxRoute route = resolver.resolve("Bücher.example");

    assertThat(route.domain()).isEqualTo("xn--bcher-kva.example");
    assertThat(names(route)).containsExactly("mx.xn--bcher-kva.example");
    assertThat(dns.queries()).startsWith("MX xn--bcher-kva.example.");
  }

  @Test
  void addressLiteralsAreTheHostItselfWithoutAskingDns() {
    assertThat(resolver.resolve("[192.0.2.1]"))
        .isEqualTo(
            new MxRoute.Hosts(
                "[192.0.2.1]",
                List.of(new MxHost("[192.0.2.1]", 0, List.of(ip("192.0.2.1")), true))));
    MxRoute.Hosts v6 = (MxRoute.Hosts) resolver.resolve("[IPv6:2001:db8::1]");
    assertThat(v6.hosts().getFirst().addresses()).containsExactly(ip("2001:db8::1"));
    assertThat(resolver.resolve("[example.test]")).isInstanceOf(MxRoute.NoUsableHosts.class);
    assertThat(resolver.resolve("[192.0.2.1")).isInstanceOf(MxRoute.NoUsableHosts.class);
    assertThat(dns.queries()).isEmpty();
  }

  @Test
  void invalidDomainNameHasNoUsableHostsNamingIt() {
    MxRoute route = resolver.resolve("exa mple.test");

    assertThat(route).isInstanceOf(MxRoute.NoUsableHosts.class);
    assertThat(((MxRoute.NoUsableHosts) route).reason()).contains("\"exa mple.test\"");
    assertThat(dns.queries()).isEmpty();
  }

  private static List<String> names(MxRoute route) {
    assertThat(route).isInstanceOf(MxRoute.Hosts.class);
    return ((MxRoute.Hosts) route).hosts().stream().map(MxHost::name).toList();
  }

  private static org.assertj.core.groups.Tuple tuple(Object... values) {
    return org.assertj.core.groups.Tuple.tuple(values);
  }

  private static final class MutableClock extends Clock {
    private Instant now = Instant.parse("2026-01-01T00:00:00Z");

    void advance(Duration duration) {
      now = now.plus(duration);
    }

    @Override
    public Instant instant() {
      return now;
    }

    @Override
    public ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
      throw new UnsupportedOperationException();
    }
  }

  static InetAddress ip(String literal) {
    try {
      return InetAddress.getByName(literal);
    } catch (java.net.UnknownHostException e) {
      throw new IllegalArgumentException(literal, e);
    }
  }
}
