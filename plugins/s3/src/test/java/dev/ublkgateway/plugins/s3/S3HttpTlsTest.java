package dev.ublkgateway.plugins.s3;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocketFactory;
import javax.net.ssl.TrustManagerFactory;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/** https: the server's certificate must be trusted and name the host; the payload is not hashed (TLS covers it). */
class S3HttpTlsTest {
    @TempDir
    Path tmp;
    SSLServerSocket server;
    SSLSocketFactory trusting;
    final List<String> heads = new CopyOnWriteArrayList<>();

    @BeforeEach
    void start() throws Exception {
        // a self-signed certificate for the name localhost only (not 127.0.0.1)
        Path ks = tmp.resolve("server.p12"), cert = tmp.resolve("server.crt");
        String keytool = Path.of(System.getProperty("java.home"), "bin", "keytool").toString();
        run(keytool, "-genkeypair", "-alias", "s", "-keyalg", "EC", "-dname", "CN=localhost", "-ext", "san=dns:localhost",
                "-validity", "2", "-keystore", ks.toString(), "-storepass", "changeit", "-storetype", "PKCS12");
        run(keytool, "-exportcert", "-alias", "s", "-keystore", ks.toString(), "-storepass", "changeit", "-rfc", "-file", cert.toString());
        KeyStore keys = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(ks)) {
            keys.load(in, "changeit".toCharArray());
        }
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(keys, "changeit".toCharArray());
        SSLContext serverContext = SSLContext.getInstance("TLS");
        serverContext.init(kmf.getKeyManagers(), null, null);
        KeyStore trust = KeyStore.getInstance(KeyStore.getDefaultType());
        trust.load(null, null);
        try (InputStream in = Files.newInputStream(cert)) {
            trust.setCertificateEntry("s", CertificateFactory.getInstance("X.509").generateCertificate(in));
        }
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        SSLContext clientContext = SSLContext.getInstance("TLS");
        clientContext.init(null, tmf.getTrustManagers(), null);
        trusting = clientContext.getSocketFactory();
        server = (SSLServerSocket) serverContext.getServerSocketFactory().createServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread.ofPlatform().daemon().start(() -> {
            while (!server.isClosed()) {
                try {
                    Socket s = server.accept();
                    Thread.ofVirtual().start(() -> serve(s));
                } catch (IOException e) {
                    return;
                }
            }
        });
    }

    private static void run(String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), out);
    }

    private void serve(Socket s) {
        try (s) {
            InputStream in = s.getInputStream();
            while (true) {
                ByteArrayOutputStream b = new ByteArrayOutputStream();
                int state = 0, c;
                while (state < 4 && (c = in.read()) >= 0) {
                    b.write(c);
                    state = (c == '\r' && (state == 0 || state == 2)) ? state + 1 : (c == '\n' && (state == 1 || state == 3)) ? state + 1 : 0;
                }
                if (state < 4) return;
                String head = b.toString(StandardCharsets.ISO_8859_1);
                heads.add(head);
                int at = head.toLowerCase().indexOf("content-length: ");
                if (at >= 0) in.skipNBytes(Long.parseLong(head.substring(at + 16, head.indexOf('\r', at)).strip()));
                s.getOutputStream().write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok".getBytes(StandardCharsets.ISO_8859_1));
                s.getOutputStream().flush();
            }
        } catch (IOException e) {
            // the client went away or refused the certificate
        }
    }

    @AfterEach
    void stop() throws IOException {
        server.close();
    }

    @Test
    void aTrustedCertificateForTheHostCarriesUnsignedPayloads() throws IOException {
        S3Http http = new S3Http("https", "localhost", server.getLocalPort(), 5, trusting);
        S3Config c = S3Config.of("https://localhost:" + server.getLocalPort(), "vol", "AKID", "secret");
        try (ObjectRequests objects = new ObjectRequests(http, "/vol/", "us-east-1",
                StaticCredentialsProvider.create(AwsBasicCredentials.create("AKID", "secret")), c.retryPolicy(), 5,
                S3Stats.of("tls-" + System.nanoTime()))) {
            objects.put("k", new byte[] {1, 2, 3}, 0, 3);
            assertArrayEquals("ok".getBytes(StandardCharsets.US_ASCII), objects.get("k").orElseThrow());
        }
        assertEquals(2, heads.size());
        assertTrue(heads.getFirst().contains("\r\nx-amz-content-sha256: UNSIGNED-PAYLOAD\r\n"), heads.getFirst());
        assertTrue(heads.getFirst().contains("\r\nHost: localhost:" + server.getLocalPort() + "\r\n"), heads.getFirst());
    }

    @Test
    void aCertificateForAnotherNameOrUntrustedIsRefused() {
        try (S3Http wrongName = new S3Http("https", "127.0.0.1", server.getLocalPort(), 5, trusting);
             S3Http untrusted = new S3Http("https", "localhost", server.getLocalPort(), 5)) {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            IOException e = assertThrows(javax.net.ssl.SSLHandshakeException.class,
                    () -> wrongName.exchange("GET", "/vol/k", "", null, 0, 0, deadline));
            assertTrue(e.getMessage().contains("127.0.0.1"), e.getMessage());
            e = assertThrows(javax.net.ssl.SSLHandshakeException.class, () -> untrusted.exchange("GET", "/vol/k", "", null, 0, 0, deadline));
            assertTrue(e.getMessage().contains("certification path"), e.getMessage());
        }
        assertEquals(0, heads.size(), "no request went to a server that was not verified");
    }
}
