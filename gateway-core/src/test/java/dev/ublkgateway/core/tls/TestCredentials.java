package dev.ublkgateway.core.tls;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.util.Base64;
import java.util.List;

/**
 * Self-signed certificates for tests, made with the JDK's keytool (always there): a directory laid out
 * as tls-certificates wants it, plus the PKCS#12 store a Java client can use.
 */
public final class TestCredentials {
    public static final char[] PASSWORD = "changeit".toCharArray();

    private TestCredentials() {}

    private static final java.util.Map<String, KeyStore> MADE = new java.util.concurrent.ConcurrentHashMap<>();

    /**
     * A key pair and self-signed certificate for CN=localhost (and 127.0.0.1); the same {@code name} gives
     * the same one within a test run (keytool is slow to start), different names different ones.
     */
    public static synchronized KeyStore keyStore(String name, String algorithm) throws Exception {
        KeyStore ks = MADE.get(name + "/" + algorithm);
        if (ks == null) {
            Path d = Files.createTempDirectory("test-credentials");
            ks = keyStore(d.resolve("k.p12"), algorithm);
            Files.delete(d.resolve("k.p12"));
            Files.delete(d);
            MADE.put(name + "/" + algorithm, ks);
        }
        return ks;
    }

    /** A new key pair and self-signed certificate for CN=localhost (and 127.0.0.1), in {@code store}. */
    public static KeyStore keyStore(Path store, String algorithm) throws Exception {
        Path keytool = Path.of(System.getProperty("java.home"), "bin", "keytool");
        Process p = new ProcessBuilder(List.of(keytool.toString(), "-genkeypair", "-alias", "k", "-keyalg", algorithm,
                "-dname", "CN=localhost", "-ext", "san=dns:localhost,ip:127.0.0.1", "-validity", "2",
                "-keystore", store.toString(), "-storetype", "PKCS12", "-storepass", new String(PASSWORD)))
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        if (p.waitFor() != 0) throw new IOException("keytool failed: " + out);
        KeyStore ks = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(store)) {
            ks.load(in, PASSWORD);
        }
        return ks;
    }

    /** Writes the store's certificate to {@code certFile} and its key (PKCS#8) to {@code keyFile}. */
    public static void writePem(KeyStore ks, Path certFile, Path keyFile) throws Exception {
        Files.writeString(certFile, pem("CERTIFICATE", ks.getCertificate("k").getEncoded()));
        if (keyFile != null) Files.writeString(keyFile, pem("PRIVATE KEY", ((PrivateKey) ks.getKey("k", PASSWORD)).getEncoded()));
    }

    /** A tls-certificates directory with server-cert.pem and server-key.pem; returns the server's store. */
    public static KeyStore serverDir(Path dir, String algorithm) throws Exception {
        Files.createDirectories(dir);
        KeyStore ks = keyStore("server", algorithm);
        writePem(ks, dir.resolve(ServerCredentials.CERT), dir.resolve(ServerCredentials.KEY));
        return ks;
    }

    public static Certificate certificate(KeyStore ks) throws Exception {
        return ks.getCertificate("k");
    }

    public static String pem(String label, byte[] der) {
        return "-----BEGIN " + label + "-----\n" + Base64.getMimeEncoder(64, "\n".getBytes()).encodeToString(der)
                + "\n-----END " + label + "-----\n";
    }
}
