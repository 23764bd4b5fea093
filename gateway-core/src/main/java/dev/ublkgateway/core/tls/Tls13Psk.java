package dev.ublkgateway.core.tls;

import javax.crypto.Cipher;
import javax.crypto.KeyAgreement;
import javax.crypto.Mac;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.security.interfaces.XECPublicKey;
import java.security.spec.NamedParameterSpec;
import java.security.spec.XECPublicKeySpec;
import java.util.Arrays;
import java.util.Map;

/**
 * The server side of TLS 1.3 with an external pre-shared key (RFC 8446, psk_dhe_ke: the key
 * authenticates both sides, an X25519 exchange gives forward secrecy), which the JDK's TLS lacks and
 * GnuTLS clients (libnbd, qemu) use for PSK. One cipher suite, TLS_AES_128_GCM_SHA256, the one every
 * TLS 1.3 client must offer. No session tickets, no early data, no certificates.
 *
 * <p>After {@link #accept} the connection's two directions are independent: one thread may
 * {@link #read} while another {@link #write}s.
 */
public final class Tls13Psk {
    /** Blocking bytes to and from the peer. */
    public interface Wire {
        /** Reads at least one byte; -1 at end of file. */
        int read(byte[] b, int off, int len) throws IOException;

        void write(byte[] b, int off, int len) throws IOException;
    }

    /** A TLS alert ends the connection: the peer's, or ours (then it was sent). */
    public static final class Alert extends IOException {
        Alert(String message) {
            super(message);
        }
    }

    private static final int CHANGE_CIPHER_SPEC = 20, ALERT = 21, HANDSHAKE = 22, APPLICATION_DATA = 23;
    private static final int CLIENT_HELLO = 1, SERVER_HELLO = 2, ENCRYPTED_EXTENSIONS = 8, FINISHED = 20, KEY_UPDATE = 24;
    private static final int EXT_PRE_SHARED_KEY = 41, EXT_SUPPORTED_VERSIONS = 43, EXT_PSK_MODES = 45, EXT_KEY_SHARE = 51;
    private static final int X25519 = 0x001d, TLS_AES_128_GCM_SHA256 = 0x1301, PSK_DHE_KE = 1;
    private static final int MAX_PLAINTEXT = 16384;
    private static final int HANDSHAKE_FAILURE = 40, ILLEGAL_PARAMETER = 47, DECODE_ERROR = 50, DECRYPT_ERROR = 51,
            PROTOCOL_VERSION = 70, UNEXPECTED_MESSAGE = 10, BAD_RECORD_MAC = 20, UNKNOWN_PSK_IDENTITY = 115,
            MISSING_EXTENSION = 109;

    private final Wire wire;
    private final Direction in = new Direction(), out = new Direction();
    private final byte[] header = new byte[5];
    private final byte[] record = new byte[MAX_PLAINTEXT + 256];
    /** Plaintext of the last record not yet handed out: {@link #record} from here to there. */
    private int pendingAt, pendingEnd;
    /** One record on its way out; used under the lock of {@link #out}. */
    private final byte[] sendBuffer = new byte[5 + MAX_PLAINTEXT + 1 + 16];
    private String user;

    /** One direction's traffic secret, key, IV and record number. */
    private static final class Direction {
        byte[] secret, iv;
        SecretKeySpec key;
        long seq;
        final Cipher cipher;

        Direction() {
            try {
                cipher = Cipher.getInstance("AES/GCM/NoPadding");
            } catch (GeneralSecurityException e) {
                throw new IllegalStateException(e);
            }
        }

        void set(byte[] trafficSecret) {
            secret = trafficSecret;
            key = new SecretKeySpec(expandLabel(trafficSecret, "key", new byte[0], 16), "AES");
            iv = expandLabel(trafficSecret, "iv", new byte[0], 12);
            seq = 0;
        }

        GCMParameterSpec nonce() {
            byte[] n = iv.clone();
            for (int i = 0; i < 8; i++) n[4 + i] ^= (byte) (seq >>> (56 - 8 * i));
            seq++;
            return new GCMParameterSpec(128, n);
        }
    }

    private Tls13Psk(Wire wire) {
        this.wire = wire;
    }

    /** The PSK identity the client proved it holds the key of. */
    public String user() {
        return user;
    }

    /** Runs the server's handshake: on return both sides hold application traffic keys. */
    public static Tls13Psk accept(Wire wire, Map<String, byte[]> keys) throws IOException {
        Tls13Psk t = new Tls13Psk(wire);
        t.handshake(keys);
        return t;
    }

    private void handshake(Map<String, byte[]> keys) throws IOException {
        byte[] hello = readPlainHandshake();
        if ((hello[0] & 0xff) != CLIENT_HELLO) throw fail(UNEXPECTED_MESSAGE, "the client did not start with a ClientHello");
        ByteBuffer b = ByteBuffer.wrap(hello, 4, hello.length - 4);
        try {
            b.getShort(); // legacy_version
            b.position(b.position() + 32); // random
            byte[] sessionId = bytes(b, b.get() & 0xff);
            boolean aes128 = false;
            for (int n = b.getShort() & 0xffff, end = b.position() + n; b.position() < end; ) {
                if ((b.getShort() & 0xffff) == TLS_AES_128_GCM_SHA256) aes128 = true;
            }
            int compressionMethods = b.get() & 0xff;
            b.position(b.position() + compressionMethods);
            boolean tls13 = false, dheMode = false;
            byte[] clientShare = null;
            int pskAt = -1;
            int extEnd = (b.getShort() & 0xffff) + b.position();
            while (b.position() < extEnd) {
                int type = b.getShort() & 0xffff, len = b.getShort() & 0xffff, start = b.position();
                switch (type) {
                    case EXT_SUPPORTED_VERSIONS -> {
                        for (int n = b.get() & 0xff, i = 0; i < n / 2; i++) if ((b.getShort() & 0xffff) == 0x0304) tls13 = true;
                    }
                    case EXT_PSK_MODES -> {
                        for (int n = b.get() & 0xff, i = 0; i < n; i++) if (b.get() == PSK_DHE_KE) dheMode = true;
                    }
                    case EXT_KEY_SHARE -> {
                        for (int end = (b.getShort() & 0xffff) + b.position(); b.position() < end; ) {
                            int group = b.getShort() & 0xffff;
                            byte[] share = bytes(b, b.getShort() & 0xffff);
                            if (group == X25519 && share.length == 32) clientShare = share;
                        }
                    }
                    case EXT_PRE_SHARED_KEY -> pskAt = start;
                    default -> { }
                }
                b.position(start + len);
            }
            if (!tls13) throw fail(PROTOCOL_VERSION, "the client does not offer TLS 1.3, which TLS-PSK needs here");
            if (pskAt < 0) throw fail(MISSING_EXTENSION, "the client offers no pre-shared key (give it tls-psk-file and a username)");
            if (!dheMode) throw fail(HANDSHAKE_FAILURE, "the client does not allow the psk_dhe_ke mode");
            if (!aes128) throw fail(HANDSHAKE_FAILURE, "the client does not offer TLS_AES_128_GCM_SHA256");
            if (clientShare == null) throw fail(HANDSHAKE_FAILURE, "the client sent no X25519 key share");

            // pre_shared_key: identities, then binders; the binders are computed over the hello before them
            b.position(pskAt);
            int identitiesEnd = (b.getShort() & 0xffff) + b.position();
            int selected = -1, index = 0;
            byte[] psk = null;
            String name = null;
            while (b.position() < identitiesEnd) {
                String id = new String(bytes(b, b.getShort() & 0xffff), StandardCharsets.UTF_8);
                b.getInt(); // obfuscated_ticket_age: 0 for external keys
                if (selected < 0 && keys.containsKey(id)) {
                    selected = index;
                    psk = keys.get(id);
                    name = id;
                }
                index++;
            }
            int bindersAt = b.position();
            if (selected < 0) throw fail(UNKNOWN_PSK_IDENTITY, "the client's PSK user is not in the tls-psk file");
            b.getShort();
            byte[] binder = null;
            for (int i = 0; i <= selected; i++) binder = bytes(b, b.get() & 0xff);

            byte[] early = extract(new byte[32], psk);
            byte[] binderKey = deriveSecret(early, "ext binder", hash());
            byte[] expected = hmac(expandLabel(binderKey, "finished", new byte[0], 32), hash(hello, 0, bindersAt));
            if (!MessageDigest.isEqual(expected, binder)) {
                throw fail(DECRYPT_ERROR, "the PSK of user " + name + " does not match the client's (a different key)");
            }
            user = name;

            KeyPair ours = KeyPairGenerator.getInstance("X25519").generateKeyPair();
            byte[] shared = x25519(ours, clientShare);
            byte[] serverHello = serverHello(sessionId, publicKey(ours), selected);
            ByteArrayOutputStream transcript = new ByteArrayOutputStream();
            transcript.writeBytes(hello);
            transcript.writeBytes(serverHello);
            writePlain(HANDSHAKE, serverHello);
            if (sessionId.length > 0) writePlain(CHANGE_CIPHER_SPEC, new byte[] {1}); // middlebox compatibility

            byte[] hs = extract(deriveSecret(early, "derived", hash()), shared);
            byte[] th = hash(transcript.toByteArray());
            byte[] clientHs = deriveSecret(hs, "c hs traffic", th), serverHs = deriveSecret(hs, "s hs traffic", th);
            in.set(clientHs);
            out.set(serverHs);
            byte[] ee = {ENCRYPTED_EXTENSIONS, 0, 0, 2, 0, 0};
            transcript.writeBytes(ee);
            byte[] serverFinished = finished(serverHs, hash(transcript.toByteArray()));
            transcript.writeBytes(serverFinished);
            byte[] flight = Arrays.copyOf(ee, ee.length + serverFinished.length);
            System.arraycopy(serverFinished, 0, flight, ee.length, serverFinished.length);
            writeRecord(HANDSHAKE, flight, 0, flight.length);

            byte[] master = extract(deriveSecret(hs, "derived", hash()), new byte[32]);
            byte[] th2 = hash(transcript.toByteArray());
            byte[] clientAp = deriveSecret(master, "c ap traffic", th2), serverAp = deriveSecret(master, "s ap traffic", th2);
            byte[] clientFinished = readEncryptedHandshake();
            if (!MessageDigest.isEqual(clientFinished, finished(clientHs, th2))) {
                throw fail(DECRYPT_ERROR, "the client's Finished does not verify");
            }
            in.set(clientAp);
            out.set(serverAp);
        } catch (java.nio.BufferUnderflowException | IllegalArgumentException | IndexOutOfBoundsException e) {
            throw fail(DECODE_ERROR, "a malformed ClientHello");
        } catch (GeneralSecurityException e) {
            throw fail(HANDSHAKE_FAILURE, "the key exchange failed (" + e.getMessage() + ")");
        }
    }

    private static byte[] serverHello(byte[] sessionId, byte[] share, int selected) {
        ByteBuffer b = ByteBuffer.allocate(256);
        b.put((byte) SERVER_HELLO).put((byte) 0).putShort((short) 0); // length, filled in below
        b.putShort((short) 0x0303);
        byte[] random = new byte[32];
        new SecureRandom().nextBytes(random);
        b.put(random).put((byte) sessionId.length).put(sessionId);
        b.putShort((short) TLS_AES_128_GCM_SHA256).put((byte) 0);
        int extLen = 6 + (8 + share.length) + 6;
        b.putShort((short) extLen);
        b.putShort((short) EXT_SUPPORTED_VERSIONS).putShort((short) 2).putShort((short) 0x0304);
        b.putShort((short) EXT_KEY_SHARE).putShort((short) (4 + share.length)).putShort((short) X25519)
                .putShort((short) share.length).put(share);
        b.putShort((short) EXT_PRE_SHARED_KEY).putShort((short) 2).putShort((short) selected);
        int len = b.position() - 4;
        b.put(2, (byte) (len >>> 8)).put(3, (byte) len);
        return Arrays.copyOf(b.array(), b.position());
    }

    private static byte[] finished(byte[] baseKey, byte[] transcriptHash) {
        byte[] v = hmac(expandLabel(baseKey, "finished", new byte[0], 32), transcriptHash);
        byte[] m = new byte[4 + v.length];
        m[0] = FINISHED;
        m[3] = (byte) v.length;
        System.arraycopy(v, 0, m, 4, v.length);
        return m;
    }

    /** The ClientHello: plaintext handshake records, however many it spans. */
    private byte[] readPlainHandshake() throws IOException {
        ByteArrayOutputStream msg = new ByteArrayOutputStream();
        int need = -1;
        while (need < 0 || msg.size() < need) {
            int type = readRecordHeader();
            int len = recordLength();
            readFully(record, len);
            if (type == ALERT) throw new Alert("the client sent alert " + (len > 1 ? record[1] & 0xff : -1));
            if (type != HANDSHAKE) throw fail(UNEXPECTED_MESSAGE, "the client sent record type " + type + " before its hello");
            msg.write(record, 0, len);
            if (need < 0 && msg.size() >= 4) {
                byte[] h = msg.toByteArray();
                need = 4 + ((h[1] & 0xff) << 16 | (h[2] & 0xff) << 8 | h[3] & 0xff);
                if (need > 64 * 1024) throw fail(DECODE_ERROR, "a ClientHello over 64 KiB");
            }
        }
        byte[] m = msg.toByteArray();
        if (m.length != need) throw fail(UNEXPECTED_MESSAGE, "the client sent more than its hello");
        return m;
    }

    /** The client's Finished message, skipping a ChangeCipherSpec before it. */
    private byte[] readEncryptedHandshake() throws IOException {
        while (true) {
            int type = readRecordHeader();
            int len = recordLength();
            readFully(record, len);
            if (type == CHANGE_CIPHER_SPEC) continue;
            if (type != APPLICATION_DATA) throw fail(UNEXPECTED_MESSAGE, "the client sent a plaintext record after the hello");
            int n = decrypt(len);
            int inner = innerType(n);
            n = innerLength;
            if (inner == ALERT) throw new Alert("the client sent alert " + (record[1] & 0xff) + " in the handshake");
            if (inner != HANDSHAKE || n < 4 || record[0] != FINISHED) throw fail(UNEXPECTED_MESSAGE, "the client did not send Finished");
            return Arrays.copyOf(record, n);
        }
    }

    /** Application data into {@code b}: at least one byte, or -1 once the client closed TLS (or the connection). */
    public int read(byte[] b, int off, int len) throws IOException {
        while (pendingAt == pendingEnd) {
            int type;
            try {
                type = readRecordHeader();
            } catch (EOFException e) {
                return -1;
            }
            int rlen = recordLength();
            readFully(record, rlen);
            if (type == CHANGE_CIPHER_SPEC) continue;
            if (type != APPLICATION_DATA) throw fail(UNEXPECTED_MESSAGE, "a plaintext record of type " + type);
            int inner = innerType(decrypt(rlen));
            int n = innerLength;
            switch (inner) {
                case APPLICATION_DATA -> {
                    pendingAt = 0;
                    pendingEnd = n;
                }
                case ALERT -> {
                    if (n >= 2 && record[1] == 0) return -1; // close_notify
                    throw new Alert("the client sent alert " + (n >= 2 ? record[1] & 0xff : -1));
                }
                case HANDSHAKE -> keyUpdate(n);
                default -> throw fail(UNEXPECTED_MESSAGE, "an inner record of type " + inner);
            }
        }
        int n = Math.min(len, pendingEnd - pendingAt);
        System.arraycopy(record, pendingAt, b, off, n);
        pendingAt += n;
        return n;
    }

    /** Post-handshake messages: KeyUpdate renews the client's key, and ours when it asks. */
    private void keyUpdate(int n) throws IOException {
        if (n != 5 || record[0] != KEY_UPDATE) throw fail(UNEXPECTED_MESSAGE, "a post-handshake message of type " + record[0]);
        boolean requested = record[4] == 1;
        in.set(expandLabel(in.secret, "traffic upd", new byte[0], 32));
        if (requested) {
            synchronized (out) {
                byte[] m = {KEY_UPDATE, 0, 0, 1, 0};
                writeRecord(HANDSHAKE, m, 0, m.length);
                out.set(expandLabel(out.secret, "traffic upd", new byte[0], 32));
            }
        }
    }

    /** Sends application data, in records of at most 16 KiB. */
    public void write(byte[] b, int off, int len) throws IOException {
        synchronized (out) {
            while (len > 0) {
                int n = Math.min(len, MAX_PLAINTEXT);
                writeRecord(APPLICATION_DATA, b, off, n);
                off += n;
                len -= n;
            }
        }
    }

    /** close_notify: nothing more comes from this side. */
    public void close() throws IOException {
        synchronized (out) {
            writeRecord(ALERT, new byte[] {1, 0}, 0, 2);
        }
    }

    private int innerLength;

    /** The inner content type of the decrypted record's {@code n} bytes; its content length in {@link #innerLength}. */
    private int innerType(int n) throws IOException {
        int i = n - 1;
        while (i >= 0 && record[i] == 0) i--;
        if (i < 0) throw fail(UNEXPECTED_MESSAGE, "a record without a content type");
        innerLength = i;
        return record[i] & 0xff;
    }

    /** Decrypts the ciphertext of {@code len} bytes in {@link #record} in place; returns the plaintext length. */
    private int decrypt(int len) throws IOException {
        try {
            in.cipher.init(Cipher.DECRYPT_MODE, in.key, in.nonce());
            in.cipher.updateAAD(header, 0, 5);
            return in.cipher.doFinal(record, 0, len, record, 0);
        } catch (GeneralSecurityException e) {
            throw fail(BAD_RECORD_MAC, "a record that does not decrypt (tampered, or another key)");
        }
    }

    /** One protected record: {@code type} becomes the inner type of an application_data record. */
    private void writeRecord(int type, byte[] b, int off, int len) throws IOException {
        byte[] rec = sendBuffer;
        int clen = len + 1 + 16;
        rec[0] = APPLICATION_DATA;
        rec[1] = 3;
        rec[2] = 3;
        rec[3] = (byte) (clen >>> 8);
        rec[4] = (byte) clen;
        System.arraycopy(b, off, rec, 5, len);
        rec[5 + len] = (byte) type;
        try {
            out.cipher.init(Cipher.ENCRYPT_MODE, out.key, out.nonce());
            out.cipher.updateAAD(rec, 0, 5);
            out.cipher.doFinal(rec, 5, len + 1, rec, 5);
        } catch (GeneralSecurityException e) {
            throw new IOException("TLS encryption failed: " + e.getMessage(), e);
        }
        wire.write(rec, 0, 5 + clen);
    }

    private void writePlain(int type, byte[] body) throws IOException {
        byte[] rec = new byte[5 + body.length];
        rec[0] = (byte) type;
        rec[1] = 3;
        rec[2] = 3;
        rec[3] = (byte) (body.length >>> 8);
        rec[4] = (byte) body.length;
        System.arraycopy(body, 0, rec, 5, body.length);
        wire.write(rec, 0, rec.length);
    }

    private int readRecordHeader() throws IOException {
        readFully(header, 5);
        return header[0] & 0xff;
    }

    private int recordLength() throws IOException {
        int len = (header[3] & 0xff) << 8 | header[4] & 0xff;
        if (len > MAX_PLAINTEXT + 256) throw fail(22 /* record_overflow */, "a record over the limit");
        return len;
    }

    private void readFully(byte[] b, int len) throws IOException {
        int done = 0;
        while (done < len) {
            int n = wire.read(b, done, len - done);
            if (n < 0) throw new EOFException("the client closed the connection");
            done += n;
        }
    }

    /** Sends a fatal alert (in the clear before keys, protected after) and returns the error to throw. */
    private Alert fail(int description, String message) {
        try {
            if (out.key == null) writePlain(ALERT, new byte[] {2, (byte) description});
            else synchronized (out) {
                writeRecord(ALERT, new byte[] {2, (byte) description}, 0, 2);
            }
        } catch (IOException | RuntimeException ignored) {
            // the client may be gone
        }
        return new Alert(message);
    }

    // RFC 8446 section 7.1, with SHA-256

    static byte[] x25519(KeyPair ours, byte[] peer) throws GeneralSecurityException {
        byte[] le = peer.clone();
        le[31] &= 0x7f;
        byte[] be = new byte[32];
        for (int i = 0; i < 32; i++) be[i] = le[31 - i];
        KeyFactory kf = KeyFactory.getInstance("X25519");
        var pub = kf.generatePublic(new XECPublicKeySpec(NamedParameterSpec.X25519, new BigInteger(1, be)));
        KeyAgreement ka = KeyAgreement.getInstance("X25519");
        ka.init(ours.getPrivate());
        ka.doPhase(pub, true);
        byte[] s = ka.generateSecret();
        boolean zero = true;
        for (byte x : s) zero &= x == 0;
        if (zero) throw new GeneralSecurityException("a degenerate X25519 share");
        return s;
    }

    static byte[] publicKey(KeyPair kp) {
        BigInteger u = ((XECPublicKey) kp.getPublic()).getU();
        byte[] be = u.toByteArray(), le = new byte[32];
        for (int i = 0; i < 32 && i < be.length; i++) le[i] = be[be.length - 1 - i];
        return le;
    }

    private static byte[] bytes(ByteBuffer b, int n) {
        byte[] out = new byte[n];
        b.get(out);
        return out;
    }

    static byte[] hash(byte[]... parts) {
        try {
            MessageDigest d = MessageDigest.getInstance("SHA-256");
            for (byte[] p : parts) d.update(p);
            return d.digest();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    private static byte[] hash(byte[] b, int off, int len) {
        return hash(Arrays.copyOfRange(b, off, off + len));
    }

    static byte[] hmac(byte[] key, byte[] data) {
        try {
            Mac m = Mac.getInstance("HmacSHA256");
            m.init(new SecretKeySpec(key, "HmacSHA256"));
            return m.doFinal(data);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    static byte[] extract(byte[] salt, byte[] ikm) {
        return hmac(salt, ikm);
    }

    static byte[] expandLabel(byte[] secret, String label, byte[] context, int length) {
        byte[] l = ("tls13 " + label).getBytes(StandardCharsets.US_ASCII);
        ByteBuffer info = ByteBuffer.allocate(2 + 1 + l.length + 1 + context.length);
        info.putShort((short) length).put((byte) l.length).put(l).put((byte) context.length).put(context);
        byte[] out = new byte[length];
        byte[] t = new byte[0];
        for (int done = 0, i = 1; done < length; i++) {
            byte[] in = new byte[t.length + info.capacity() + 1];
            System.arraycopy(t, 0, in, 0, t.length);
            System.arraycopy(info.array(), 0, in, t.length, info.capacity());
            in[in.length - 1] = (byte) i;
            t = hmac(secret, in);
            int n = Math.min(t.length, length - done);
            System.arraycopy(t, 0, out, done, n);
            done += n;
        }
        return out;
    }

    private static byte[] deriveSecret(byte[] secret, String label, byte[] transcriptHash) {
        return expandLabel(secret, label, transcriptHash, 32);
    }
}
