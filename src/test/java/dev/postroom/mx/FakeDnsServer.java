package dev.postroom.mx;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import org.xbill.DNS.AAAARecord;
import org.xbill.DNS.ARecord;
import org.xbill.DNS.Address;
import org.xbill.DNS.CNAMERecord;
import org.xbill.DNS.DClass;
import org.xbill.DNS.Flags;
import org.xbill.DNS.MXRecord;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Record;
import org.xbill.DNS.SOARecord;
import org.xbill.DNS.Section;
import org.xbill.DNS.TXTRecord;
import org.xbill.DNS.TextParseException;
import org.xbill.DNS.Type;

/**
 * An authoritative DNS server for tests, on a loopback UDP port, answering from a table the test
 * fills: {@code dns.mx("example.test", 10, "mx1.example.test").a("mx1.example.test", "127.0.0.1")}.
 * Names it has no records for are NXDOMAIN; a name with records of other types only is NODATA.
 * Point a resolver at it with {@link #settings()}. Records have TTL 0 unless {@link #ttl(long)}
 * says otherwise, so resolvers do not cache between a test's changes of the table.
 */
public final class FakeDnsServer implements AutoCloseable {
  private static final Duration TEST_TIMEOUT = Duration.ofMillis(500);

  private final DatagramSocket socket;
  private final Thread thread;
  private final Map<Name, List<Record>> records = new ConcurrentHashMap<>();
  private final Set<Name> nxdomains = ConcurrentHashMap.newKeySet();
  private final Set<Name> servfails = ConcurrentHashMap.newKeySet();
  private final Set<Name> silent = ConcurrentHashMap.newKeySet();
  private final List<String> queries = new CopyOnWriteArrayList<>();
  private volatile long ttl;

  private FakeDnsServer() {
    try {
      socket = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
    } catch (SocketException e) {
      throw new UncheckedIOException(e);
    }
    thread = Thread.ofPlatform().daemon().name("fake-dns-" + port()).start(this::serve);
  }

  /** Starts a server on a free loopback port. */
  public static FakeDnsServer start() {
    return new FakeDnsServer();
  }

  public int port() {
    return socket.getLocalPort();
  }

  public InetSocketAddress address() {
    return new InetSocketAddress(socket.getLocalAddress(), port());
  }

  /** Settings asking only this server, with a short timeout and no retries. */
  public MxSettings settings() {
    return new MxSettings(List.of(address()), TEST_TIMEOUT, 0);
  }

  /** TTL in seconds of the records added from now on. */
  public FakeDnsServer ttl(long seconds) {
    this.ttl = seconds;
    return this;
  }

  public FakeDnsServer mx(String domain, int preference, String target) {
    return add(new MXRecord(name(domain), DClass.IN, ttl, preference, name(target)));
  }

  /** RFC 7505 null MX: the domain's only MX is {@code 0 .}. */
  public FakeDnsServer nullMx(String domain) {
    return add(new MXRecord(name(domain), DClass.IN, ttl, 0, Name.root));
  }

  public FakeDnsServer a(String host, String ipv4) {
    return add(new ARecord(name(host), DClass.IN, ttl, address(ipv4, Address.IPv4)));
  }

  public FakeDnsServer aaaa(String host, String ipv6) {
    return add(new AAAARecord(name(host), DClass.IN, ttl, address(ipv6, Address.IPv6)));
  }

  public FakeDnsServer cname(String alias, String target) {
    return add(new CNAMERecord(name(alias), DClass.IN, ttl, name(target)));
  }

  public FakeDnsServer txt(String name, String text) {
    return add(new TXTRecord(name(name), DClass.IN, ttl, text));
  }

  public FakeDnsServer nxdomain(String domain) {
    nxdomains.add(name(domain));
    return this;
  }

  public FakeDnsServer servfail(String domain) {
    servfails.add(name(domain));
    return this;
  }

  /** Queries for this name get no answer at all, so the resolver times out. */
  public FakeDnsServer silent(String domain) {
    silent.add(name(domain));
    return this;
  }

  /** Questions received so far, like {@code "MX xn--bcher-kva.example."}. */
  public List<String> queries() {
    return List.copyOf(queries);
  }

  /** Forgets every record, failure and query seen, and sets the TTL back to 0. */
  public void reset() {
    records.clear();
    nxdomains.clear();
    servfails.clear();
    silent.clear();
    queries.clear();
    ttl = 0;
  }

  @Override
  public void close() {
    socket.close();
    try {
      thread.join(Duration.ofSeconds(2));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private FakeDnsServer add(Record record) {
    records.computeIfAbsent(record.getName(), n -> new CopyOnWriteArrayList<>()).add(record);
    return this;
  }

  private void serve() {
    byte[] buffer = new byte[4096];
    while (!socket.isClosed()) {
      DatagramPacket packet = new DatagramPacket(buffer, buffer.length);
      try {
        socket.receive(packet);
        Message query = new Message(java.util.Arrays.copyOf(buffer, packet.getLength()));
        Message response = answer(query);
        if (response != null) {
          byte[] wire = response.toWire(512);
          socket.send(new DatagramPacket(wire, wire.length, packet.getSocketAddress()));
        }
      } catch (IOException e) {
        if (socket.isClosed()) {
          return;
        }
      }
    }
  }

  private Message answer(Message query) {
    Record question = query.getQuestion();
    Name name = question.getName();
    int type = question.getType();
    queries.add(Type.string(type) + " " + name);
    if (silent.contains(name)) {
      return null;
    }
    Message response = new Message(query.getHeader().getID());
    response.getHeader().setFlag(Flags.QR);
    response.getHeader().setFlag(Flags.AA);
    if (query.getHeader().getFlag(Flags.RD)) {
      response.getHeader().setFlag(Flags.RD);
      response.getHeader().setFlag(Flags.RA);
    }
    response.addRecord(question, Section.QUESTION);
    if (servfails.contains(name)) {
      response.getHeader().setRcode(Rcode.SERVFAIL);
      return response;
    }
    List<Record> owned = records.getOrDefault(name, List.of());
    if (nxdomains.contains(name) || owned.isEmpty()) {
      response.getHeader().setRcode(Rcode.NXDOMAIN);
      response.addRecord(soa(name), Section.AUTHORITY);
      return response;
    }
    List<Record> answers = new ArrayList<>();
    for (Record record : owned) {
      if (record.getType() == type || record.getType() == Type.CNAME) {
        answers.add(record);
      }
    }
    if (answers.isEmpty()) {
      response.addRecord(soa(name), Section.AUTHORITY);
    }
    answers.forEach(r -> response.addRecord(r, Section.ANSWER));
    return response;
  }

  private SOARecord soa(Name name) {
    return new SOARecord(
        name,
        DClass.IN,
        ttl,
        name("ns.fake-dns.test"),
        name("hostmaster.fake-dns.test"),
        1,
        3600,
        600,
        86400,
        ttl);
  }

  private static Name name(String domain) {
    try {
      return Name.fromString(domain, Name.root);
    } catch (TextParseException e) {
      throw new IllegalArgumentException("bad test domain " + domain, e);
    }
  }

  private static InetAddress address(String ip, int family) {
    try {
      return Address.getByAddress(ip, family);
    } catch (java.net.UnknownHostException e) {
      throw new IllegalArgumentException("bad test address " + ip, e);
    }
  }
}
