package dev.ublkgateway.core.tls;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * PEM files as openssl and certtool write them: certificates, and private keys in PKCS#8
 * ("PRIVATE KEY"), PKCS#1 ("RSA PRIVATE KEY") or SEC 1 ("EC PRIVATE KEY"). The older two are
 * rewrapped as PKCS#8 so the JDK's key factories read them. Errors are one-line
 * {@link IllegalArgumentException}s naming what is wrong; callers add which file.
 */
public final class Pem {
    private static final Pattern BLOCK = Pattern.compile(
            "-----BEGIN ([A-Z0-9 ]+)-----\\s*([A-Za-z0-9+/=\\s]*?)-----END \\1-----");
    /** DER of the algorithm identifiers a PKCS#8 wrapper needs: rsaEncryption with NULL, id-ecPublicKey. */
    private static final byte[] RSA_ALGORITHM = {0x30, 0x0d, 0x06, 0x09, 0x2a, (byte) 0x86, 0x48, (byte) 0x86,
            (byte) 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00};
    private static final byte[] EC_PUBLIC_KEY_OID = {0x06, 0x07, 0x2a, (byte) 0x86, 0x48, (byte) 0xce, 0x3d, 0x02, 0x01};

    /** One block: its label ("CERTIFICATE", "PRIVATE KEY", ...) and its decoded bytes. */
    record Block(String label, byte[] der) {}

    private Pem() {}

    static List<Block> blocks(String text) {
        List<Block> out = new ArrayList<>();
        Matcher m = BLOCK.matcher(text);
        while (m.find()) {
            try {
                out.add(new Block(m.group(1), Base64.getMimeDecoder().decode(m.group(2))));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("its " + m.group(1) + " block is not valid base64");
            }
        }
        return out;
    }

    /** Every certificate in the text, in order; none is an error. */
    public static List<X509Certificate> certificates(String text) {
        List<X509Certificate> certs = new ArrayList<>();
        try {
            CertificateFactory f = CertificateFactory.getInstance("X.509");
            for (Block b : blocks(text)) {
                if (b.label().equals("CERTIFICATE") || b.label().equals("X509 CERTIFICATE")) {
                    certs.add((X509Certificate) f.generateCertificate(new ByteArrayInputStream(b.der())));
                }
            }
        } catch (CertificateException e) {
            throw new IllegalArgumentException("holds a certificate that cannot be read (" + e.getMessage() + ")");
        }
        if (certs.isEmpty()) throw new IllegalArgumentException("holds no -----BEGIN CERTIFICATE----- block");
        return certs;
    }

    /** The first private key in the text. */
    public static PrivateKey privateKey(String text) {
        for (Block b : blocks(text)) {
            switch (b.label()) {
                case "PRIVATE KEY" -> {
                    return pkcs8(b.der());
                }
                case "RSA PRIVATE KEY" -> {
                    return pkcs8(sequence(concat(new byte[] {0x02, 0x01, 0x00}, RSA_ALGORITHM, octetString(b.der()))));
                }
                case "EC PRIVATE KEY" -> {
                    byte[] curve = Der.ecCurve(b.der());
                    byte[] algorithm = sequence(concat(EC_PUBLIC_KEY_OID, curve));
                    return pkcs8(sequence(concat(new byte[] {0x02, 0x01, 0x00}, algorithm, octetString(b.der()))));
                }
                case "ENCRYPTED PRIVATE KEY" -> throw new IllegalArgumentException("holds an encrypted private key; "
                        + "store it unencrypted (openssl pkey -in KEY -out KEY) and protect it by file permissions");
                default -> { }
            }
        }
        throw new IllegalArgumentException("holds no -----BEGIN PRIVATE KEY----- block");
    }

    private static PrivateKey pkcs8(byte[] der) {
        PKCS8EncodedKeySpec spec = new PKCS8EncodedKeySpec(der);
        for (String algorithm : List.of("RSA", "EC", "Ed25519", "Ed448", "RSASSA-PSS")) {
            try {
                return KeyFactory.getInstance(algorithm).generatePrivate(spec);
            } catch (GeneralSecurityException e) {
                // not this algorithm: try the next
            }
        }
        throw new IllegalArgumentException("holds a private key that is not a readable RSA, EC or Ed25519 key");
    }

    private static byte[] sequence(byte[] content) {
        return Der.element(0x30, content);
    }

    private static byte[] octetString(byte[] content) {
        return Der.element(0x04, content);
    }

    private static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) out.writeBytes(p);
        return out.toByteArray();
    }
}
