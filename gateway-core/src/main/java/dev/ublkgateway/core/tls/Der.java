package dev.ublkgateway.core.tls;

import java.io.ByteArrayOutputStream;
import java.util.Arrays;

/** The little DER that rewrapping old-style private keys needs: writing a TLV, finding an EC key's curve. */
final class Der {
    private Der() {}

    static byte[] element(int tag, byte[] content) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(tag);
        int n = content.length;
        if (n < 0x80) {
            out.write(n);
        } else {
            int bytes = n > 0xffffff ? 4 : n > 0xffff ? 3 : n > 0xff ? 2 : 1;
            out.write(0x80 | bytes);
            for (int i = bytes - 1; i >= 0; i--) out.write(n >>> (8 * i));
        }
        out.writeBytes(content);
        return out.toByteArray();
    }

    /**
     * The named-curve OID (as a whole DER element) of a SEC 1 ECPrivateKey: SEQUENCE { version,
     * privateKey OCTET STRING, [0] parameters, [1] publicKey }.
     */
    static byte[] ecCurve(byte[] der) {
        int[] seq = header(der, 0, 0x30);
        int at = seq[0], end = seq[0] + seq[1];
        while (at < end) {
            int tag = der[at] & 0xff;
            int[] h = header(der, at, tag);
            if (tag == 0xa0) {
                int[] oid = header(der, h[0], 0x06);
                return Arrays.copyOfRange(der, h[0], oid[0] + oid[1]); // the OID element itself
            }
            at = h[0] + h[1];
        }
        throw new IllegalArgumentException("holds an EC private key without its curve; convert it to PKCS#8 "
                + "(openssl pkey -in KEY -out KEY)");
    }

    /** {content offset, content length} of the element at {@code at}, which must have {@code tag}. */
    private static int[] header(byte[] der, int at, int tag) {
        if (at + 2 > der.length || (der[at] & 0xff) != tag) throw bad();
        int len = der[at + 1] & 0xff, off = at + 2;
        if (len >= 0x80) {
            int bytes = len & 0x7f;
            if (bytes < 1 || bytes > 3 || off + bytes > der.length) throw bad();
            len = 0;
            for (int i = 0; i < bytes; i++) len = len << 8 | der[off++] & 0xff;
        }
        if (off + len > der.length) throw bad();
        return new int[] {off, len};
    }

    private static IllegalArgumentException bad() {
        return new IllegalArgumentException("holds an EC private key that is not valid DER");
    }
}
