package dev.postroom.smtp;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.SSLSocketFactory;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;

/**
 * TLS for STARTTLS and implicit TLS: TLS 1.2 or 1.3, SNI, the JDK's trusted CAs plus any extra PEM
 * CAs, and host-name verification (RFC 6125 through the JDK's HTTPS rules) unless turned off.
 */
final class TlsSupport {
  private static final String[] PROTOCOLS = {"TLSv1.3", "TLSv1.2"};
  private static final Map<String, SSLSocketFactory> FACTORIES = new ConcurrentHashMap<>();

  private TlsSupport() {}

  /** Wraps {@code plain} and completes the handshake within {@code timeout}. */
  static SSLSocket handshake(Socket plain, String host, SmtpSettings settings, Duration timeout)
      throws IOException {
    SSLSocketFactory factory = factory(settings);
    SSLSocket tls = (SSLSocket) factory.createSocket(plain, host, plain.getPort(), true);
    tls.setUseClientMode(true);
    SSLParameters params = tls.getSSLParameters();
    params.setProtocols(PROTOCOLS);
    if (settings.tlsVerify()) {
      params.setEndpointIdentificationAlgorithm("HTTPS");
    }
    tls.setSSLParameters(params);
    tls.setSoTimeout((int) Math.min(Integer.MAX_VALUE, timeout.toMillis()));
    TimedOutputStream.withDeadline(
        plain,
        timeout,
        () -> {
          tls.startHandshake();
          return null;
        });
    return tls;
  }

  private static SSLSocketFactory factory(SmtpSettings settings) {
    String key = settings.tlsVerify() + "\n" + Objects.toString(settings.trustedCaPem(), "");
    return FACTORIES.computeIfAbsent(key, k -> build(settings));
  }

  private static SSLSocketFactory build(SmtpSettings settings) {
    try {
      SSLContext context = SSLContext.getInstance("TLS");
      TrustManager[] trust;
      if (!settings.tlsVerify()) {
        trust = new TrustManager[] {new TrustAnything()};
      } else if (settings.trustedCaPem() == null) {
        trust = null;
      } else {
        trust = withExtraCas(settings.trustedCaPem());
      }
      context.init(null, trust, null);
      return context.getSocketFactory();
    } catch (GeneralSecurityException | IOException e) {
      throw new IllegalArgumentException("cannot set up TLS: " + e.getMessage(), e);
    }
  }

  private static TrustManager[] withExtraCas(String pem)
      throws GeneralSecurityException, IOException {
    KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
    store.load(null, null);
    TrustManagerFactory jdk =
        TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    jdk.init((KeyStore) null);
    int n = 0;
    for (TrustManager tm : jdk.getTrustManagers()) {
      if (tm instanceof X509TrustManager x509) {
        for (X509Certificate ca : x509.getAcceptedIssuers()) {
          store.setCertificateEntry("jdk-" + n++, ca);
        }
      }
    }
    CertificateFactory cf = CertificateFactory.getInstance("X.509");
    var certs =
        cf.generateCertificates(new ByteArrayInputStream(pem.getBytes(StandardCharsets.US_ASCII)));
    if (certs.isEmpty()) {
      throw new IllegalArgumentException("trustedCaPem holds no certificate");
    }
    for (Certificate c : certs) {
      store.setCertificateEntry("extra-" + n++, c);
    }
    TrustManagerFactory combined =
        TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    combined.init(store);
    return combined.getTrustManagers();
  }

  /** Used only when the caller set tlsVerify=false: encryption without authentication. */
  private static final class TrustAnything implements X509TrustManager {
    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType) {}

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) {}

    @Override
    public X509Certificate[] getAcceptedIssuers() {
      return new X509Certificate[0];
    }
  }
}
