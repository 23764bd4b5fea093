package dev.ublkgateway.core.tls;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManagerFactory;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.security.cert.X509Certificate;
import java.util.List;

/**
 * A TLS server's X.509 credentials from a directory laid out as nbdkit's and qemu-nbd's are:
 * {@code server-cert.pem} (the certificate, optionally followed by its chain), {@code server-key.pem}
 * (its private key) and, to verify clients' certificates, {@code ca-cert.pem}. Loading checks
 * everything a client would otherwise only meet as a failed handshake, and says what to fix in one line.
 */
public final class ServerCredentials {
    public static final String CA = "ca-cert.pem", CERT = "server-cert.pem", KEY = "server-key.pem";
    private static final String[] PROTOCOLS = {"TLSv1.3", "TLSv1.2"};

    private final SSLContext context;
    private final boolean verifyPeer;

    private ServerCredentials(SSLContext context, boolean verifyPeer) {
        this.context = context;
        this.verifyPeer = verifyPeer;
    }

    /** Loads {@code dir}; {@code verifyPeer}: clients must present a certificate signed by its ca-cert.pem. */
    public static ServerCredentials load(Path dir, boolean verifyPeer) {
        if (!Files.isDirectory(dir)) {
            throw new IllegalArgumentException("tls-certificates directory " + dir + (Files.exists(dir) ? " is not a directory"
                    : " does not exist") + "; create it holding " + CERT + " and " + KEY + " (and " + CA
                    + " to verify clients)");
        }
        List<X509Certificate> chain = parse(dir.resolve(CERT), Pem::certificates, "the server's certificate");
        PrivateKey key = parse(dir.resolve(KEY), Pem::privateKey, "the server's private key");
        matching(dir, chain.getFirst().getPublicKey(), key);
        Path caFile = dir.resolve(CA);
        List<X509Certificate> cas = null;
        if (verifyPeer) {
            if (!Files.exists(caFile)) {
                throw new IllegalArgumentException("tls-verify-peer is true but " + caFile + " does not exist; put the "
                        + "certificate of the CA that signs client certificates there, or set tls-verify-peer: false");
            }
            cas = parse(caFile, Pem::certificates, "the CA certificate that signs client certificates");
        }
        try {
            char[] none = new char[0];
            KeyStore keys = KeyStore.getInstance("PKCS12");
            keys.load(null, null);
            keys.setKeyEntry("server", key, none, chain.toArray(new X509Certificate[0]));
            KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(keys, none);
            TrustManagerFactory tmf = null;
            if (cas != null) {
                KeyStore trust = KeyStore.getInstance("PKCS12");
                trust.load(null, null);
                for (int i = 0; i < cas.size(); i++) trust.setCertificateEntry("ca" + i, cas.get(i));
                tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
                tmf.init(trust);
            }
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(kmf.getKeyManagers(), tmf == null ? null : tmf.getTrustManagers(), null);
            return new ServerCredentials(context, verifyPeer);
        } catch (GeneralSecurityException | IOException e) {
            throw new IllegalArgumentException("the credentials in " + dir + " cannot be used for TLS (" + e.getMessage()
                    + "); make new ones as the README's \"NBD over TLS\" shows");
        }
    }

    /** A server-side engine for one connection: TLS 1.3 or 1.2, client certificates required when verifying. */
    public SSLEngine newEngine() {
        SSLEngine e = context.createSSLEngine();
        e.setUseClientMode(false);
        e.setEnabledProtocols(PROTOCOLS);
        if (verifyPeer) e.setNeedClientAuth(true);
        return e;
    }

    public boolean verifyPeer() {
        return verifyPeer;
    }

    private interface Parser<T> {
        T parse(String text);
    }

    private static <T> T parse(Path file, Parser<T> parser, String what) {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.ISO_8859_1);
        } catch (java.nio.file.NoSuchFileException e) {
            throw new IllegalArgumentException(file + " does not exist; put " + what + " there in PEM form");
        } catch (IOException e) {
            throw new IllegalArgumentException(file + " cannot be read (" + e.getMessage() + "); make it readable by the "
                    + "gateway's user");
        }
        try {
            return parser.parse(text);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(file + " " + e.getMessage() + "; put " + what + " there in PEM form");
        }
    }

    /** The key must be the certificate's: a mismatch would fail every handshake with an obscure alert. */
    private static void matching(Path dir, PublicKey pub, PrivateKey key) {
        String algorithm = switch (key.getAlgorithm()) {
            case "RSA" -> "SHA256withRSA";
            case "EC" -> "SHA256withECDSA";
            case "Ed25519", "Ed448", "EdDSA" -> key.getAlgorithm();
            default -> null;
        };
        if (algorithm == null) return; // nothing to test it with; the handshake will tell
        boolean ok;
        try {
            byte[] probe = "ublk-gateway key check".getBytes(StandardCharsets.US_ASCII);
            Signature s = Signature.getInstance(algorithm);
            s.initSign(key);
            s.update(probe);
            byte[] sig = s.sign();
            Signature v = Signature.getInstance(algorithm);
            v.initVerify(pub);
            v.update(probe);
            ok = v.verify(sig);
        } catch (GeneralSecurityException e) {
            ok = false;
        }
        if (!ok) {
            throw new IllegalArgumentException(dir.resolve(KEY) + " is not the private key of " + dir.resolve(CERT)
                    + "; put the matching key and certificate there");
        }
    }
}
