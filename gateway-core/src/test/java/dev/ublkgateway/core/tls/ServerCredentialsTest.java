package dev.ublkgateway.core.tls;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.net.ssl.SSLEngine;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** Loading a tls-certificates directory: what works, and the one-line error for each thing that does not. */
class ServerCredentialsTest {
    @TempDir
    Path tmp;

    private String error(Path dir, boolean verifyPeer) {
        String m = assertThrows(IllegalArgumentException.class, () -> ServerCredentials.load(dir, verifyPeer)).getMessage();
        assertFalse(m.contains("\n"), m);
        return m;
    }

    @Test
    void loadsRsaAndEcDirectories() throws Exception {
        for (String alg : List.of("RSA", "EC")) {
            Path dir = tmp.resolve(alg);
            TestCredentials.serverDir(dir, alg);
            SSLEngine e = ServerCredentials.load(dir, false).newEngine();
            assertFalse(e.getUseClientMode());
            assertFalse(e.getNeedClientAuth());
            assertEquals(List.of("TLSv1.3", "TLSv1.2"), Arrays.asList(e.getEnabledProtocols()));
        }
    }

    @Test
    void verifyPeerNeedsTheCaCertificate() throws Exception {
        Path dir = tmp.resolve("d");
        TestCredentials.serverDir(dir, "EC");
        String m = error(dir, true);
        assertTrue(m.contains("ca-cert.pem does not exist") && m.contains("tls-verify-peer: false"), m);
        KeyStore client = TestCredentials.keyStore("client", "EC");
        TestCredentials.writePem(client, dir.resolve(ServerCredentials.CA), null);
        assertTrue(ServerCredentials.load(dir, true).newEngine().getNeedClientAuth());
    }

    @Test
    void missingThingsAreNamed() throws Exception {
        String m = error(tmp.resolve("nope"), false);
        assertTrue(m.contains("nope does not exist") && m.contains("server-cert.pem"), m);
        Files.writeString(tmp.resolve("file"), "x");
        assertTrue(error(tmp.resolve("file"), false).contains("is not a directory"));
        Path dir = tmp.resolve("d");
        TestCredentials.serverDir(dir, "RSA");
        Files.delete(dir.resolve(ServerCredentials.KEY));
        m = error(dir, false);
        assertTrue(m.contains("server-key.pem does not exist; put the server's private key there"), m);
    }

    @Test
    void badPemIsNamed() throws Exception {
        Path dir = tmp.resolve("d");
        TestCredentials.serverDir(dir, "RSA");
        Path cert = dir.resolve(ServerCredentials.CERT), key = dir.resolve(ServerCredentials.KEY);
        String goodCert = Files.readString(cert), goodKey = Files.readString(key);
        Files.writeString(cert, "hello\n");
        String m = error(dir, false);
        assertTrue(m.contains("server-cert.pem holds no -----BEGIN CERTIFICATE----- block"), m);
        Files.writeString(cert, goodCert.replaceFirst("\n[A-Za-z0-9+/]{10}", "\nAAAAAAAAAA"));
        assertTrue(error(dir, false).contains("holds a certificate that cannot be read"));
        Files.writeString(cert, goodCert);
        Files.writeString(key, TestCredentials.pem("PRIVATE KEY", new byte[] {1, 2, 3}));
        assertTrue(error(dir, false).contains("not a readable RSA, EC or Ed25519 key"));
        Files.writeString(key, TestCredentials.pem("ENCRYPTED PRIVATE KEY", new byte[] {1, 2, 3}));
        assertTrue(error(dir, false).contains("encrypted"));
        Files.writeString(key, goodKey);
        ServerCredentials.load(dir, false);
    }

    @Test
    void aKeyOfAnotherCertificateIsRefused() throws Exception {
        Path dir = tmp.resolve("d");
        TestCredentials.serverDir(dir, "EC");
        KeyStore other = TestCredentials.keyStore("other", "EC");
        TestCredentials.writePem(other, tmp.resolve("o.pem"), dir.resolve(ServerCredentials.KEY));
        String m = error(dir, false);
        assertTrue(m.contains("server-key.pem is not the private key of") && m.contains("server-cert.pem"), m);
    }

    /** openssl's and certtool's older key forms: PKCS#1 RSA and SEC 1 EC keys. */
    @Test
    void readsPkcs1AndSec1Keys() throws Exception {
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/openssl")), "openssl is not installed");
        for (String[] kind : List.of(new String[] {"RSA PRIVATE KEY", "genrsa", "-traditional", "2048"},
                new String[] {"EC PRIVATE KEY", "ecparam", "-genkey", "-name", "prime256v1"})) {
            Path out = tmp.resolve("k.pem");
            List<String> cmd = new java.util.ArrayList<>(List.of("openssl"));
            cmd.addAll(List.of(kind[1], "-out", out.toString()));
            cmd.addAll(Arrays.asList(kind).subList(2, kind.length));
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            assertEquals(0, p.waitFor(), String.join(" ", cmd));
            String text = Files.readString(out);
            assertTrue(text.contains("BEGIN " + kind[0]), text);
            PrivateKey k = Pem.privateKey(text);
            assertEquals(kind[0].startsWith("RSA") ? "RSA" : "EC", k.getAlgorithm());
        }
    }
}
