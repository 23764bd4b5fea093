package dev.ublkgateway.core.tls;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The TLS 1.3 PSK server against a client written here from RFC 8446 (GnuTLS clients are in
 * tests/nbd/run.sh): a full handshake and data both ways, and the alerts for a wrong key, an unknown
 * user and a tampered record.
 */
class Tls13PskTest {
    static final byte[] KEY = "0123456789abcdef0123456789abcdef".getBytes(StandardCharsets.US_ASCII);
    ServerSocket listener;

    @AfterEach
    void close() throws IOException {
        if (listener != null) listener.close();
    }

    /** The server on its own thread: accepts one client, reads 5 bytes, answers "world". */
    CompletableFuture<String> server(Map<String, byte[]> keys) throws IOException {
        listener = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
        return CompletableFuture.supplyAsync(() -> {
            try (Socket s = listener.accept()) {
                InputStream in = s.getInputStream();
                OutputStream out = s.getOutputStream();
                Tls13Psk tls = Tls13Psk.accept(new Tls13Psk.Wire() {
                    public int read(byte[] b, int off, int len) throws IOException {
                        return in.read(b, off, len);
                    }

                    public void write(byte[] b, int off, int len) throws IOException {
                        out.write(b, off, len);
                    }
                }, keys);
                byte[] got = new byte[5];
                for (int n = 0; n < 5; ) n += tls.read(got, n, 5 - n);
                tls.write("world".getBytes(StandardCharsets.US_ASCII), 0, 5);
                return tls.user() + ":" + new String(got, StandardCharsets.US_ASCII);
            } catch (IOException e) {
                return "error: " + e.getMessage();
            }
        });
    }

    /** A minimal client: one identity, X25519, TLS_AES_128_GCM_SHA256. */
    static final class Client {
        final Socket s;
        final DataInputStream in;
        final OutputStream out;
        byte[] readKey, readIv, writeKey, writeIv;
        long readSeq, writeSeq;

        Client(int port) throws IOException {
            s = new Socket(InetAddress.getLoopbackAddress(), port);
            in = new DataInputStream(s.getInputStream());
            out = s.getOutputStream();
        }

        /** Runs the handshake; the type and first payload byte of what the server sent instead, if it refused. */
        void handshake(String user, byte[] key) throws Exception {
            KeyPair kp = KeyPairGenerator.getInstance("X25519").generateKeyPair();
            byte[] id = user.getBytes(StandardCharsets.UTF_8);
            ByteBuffer b = ByteBuffer.allocate(512);
            b.put((byte) 1).put(new byte[3]).putShort((short) 0x0303).put(new byte[32]);
            b.put((byte) 32).put(new byte[32]); // a session id: the server answers with ChangeCipherSpec
            b.putShort((short) 2).putShort((short) 0x1301).put((byte) 1).put((byte) 0);
            int extAt = b.position();
            b.putShort((short) 0);
            b.putShort((short) 43).putShort((short) 3).put((byte) 2).putShort((short) 0x0304);
            b.putShort((short) 51).putShort((short) 38).putShort((short) 36).putShort((short) 0x1d).putShort((short) 32)
                    .put(Tls13Psk.publicKey(kp));
            b.putShort((short) 45).putShort((short) 2).put((byte) 1).put((byte) 1);
            b.putShort((short) 41).putShort((short) (2 + 2 + id.length + 4 + 2 + 33))
                    .putShort((short) (2 + id.length + 4)).putShort((short) id.length).put(id).putInt(0);
            int bindersAt = b.position();
            b.putShort((short) 33).put((byte) 32).put(new byte[32]);
            int end = b.position();
            b.putShort(extAt, (short) (end - extAt - 2));
            b.put(1, (byte) ((end - 4) >>> 16)).put(2, (byte) ((end - 4) >>> 8)).put(3, (byte) (end - 4));
            byte[] hello = Arrays.copyOf(b.array(), end);
            byte[] early = Tls13Psk.extract(new byte[32], key);
            byte[] binderKey = Tls13Psk.expandLabel(early, "ext binder", Tls13Psk.hash(), 32);
            byte[] binder = Tls13Psk.hmac(Tls13Psk.expandLabel(binderKey, "finished", new byte[0], 32),
                    Tls13Psk.hash(Arrays.copyOf(hello, bindersAt)));
            System.arraycopy(binder, 0, hello, end - 32, 32);
            record(22, hello);

            byte[] sh = readRecord();
            if (lastType == 21) throw new Refused(sh[1] & 0xff);
            assertEquals(2, sh[0], "ServerHello");
            ByteBuffer r = ByteBuffer.wrap(sh, 4 + 2 + 32, sh.length - 38);
            r.position(r.position() + 1 + (sh[38] & 0xff) + 3);
            byte[] serverShare = null;
            for (int e = (r.getShort() & 0xffff) + r.position(); r.position() < e; ) {
                int type = r.getShort() & 0xffff, len = r.getShort() & 0xffff, start = r.position();
                if (type == 51) {
                    r.getShort();
                    serverShare = new byte[r.getShort() & 0xffff];
                    r.get(serverShare);
                }
                if (type == 41) assertEquals(0, r.getShort(), "selected identity");
                r.position(start + len);
            }
            assertNotNull(serverShare);
            byte[] shared = Tls13Psk.x25519(kp, serverShare);
            byte[] hs = Tls13Psk.extract(Tls13Psk.expandLabel(early, "derived", Tls13Psk.hash(), 32), shared);
            byte[] th = Tls13Psk.hash(hello, sh);
            byte[] cHs = Tls13Psk.expandLabel(hs, "c hs traffic", th, 32), sHs = Tls13Psk.expandLabel(hs, "s hs traffic", th, 32);
            keys(cHs, sHs);
            assertArrayEquals(new byte[] {1}, readRecord(), "ChangeCipherSpec for the session id");
            byte[] flight = readRecord();
            assertEquals(22, lastType);
            assertEquals(8, flight[0], "EncryptedExtensions");
            byte[] ee = Arrays.copyOf(flight, 6), fin = Arrays.copyOfRange(flight, 6, flight.length);
            byte[] expected = Tls13Psk.hmac(Tls13Psk.expandLabel(sHs, "finished", new byte[0], 32), Tls13Psk.hash(hello, sh, ee));
            assertArrayEquals(expected, Arrays.copyOfRange(fin, 4, fin.length), "the server's Finished");
            byte[] th2 = Tls13Psk.hash(hello, sh, ee, fin);
            byte[] mine = Tls13Psk.hmac(Tls13Psk.expandLabel(cHs, "finished", new byte[0], 32), th2);
            byte[] clientFin = new byte[36];
            clientFin[0] = 20;
            clientFin[3] = 32;
            System.arraycopy(mine, 0, clientFin, 4, 32);
            seal(22, clientFin);
            byte[] master = Tls13Psk.extract(Tls13Psk.expandLabel(hs, "derived", Tls13Psk.hash(), 32), new byte[32]);
            keys(Tls13Psk.expandLabel(master, "c ap traffic", th2, 32), Tls13Psk.expandLabel(master, "s ap traffic", th2, 32));
        }

        void keys(byte[] write, byte[] read) {
            writeKey = Tls13Psk.expandLabel(write, "key", new byte[0], 16);
            writeIv = Tls13Psk.expandLabel(write, "iv", new byte[0], 12);
            readKey = Tls13Psk.expandLabel(read, "key", new byte[0], 16);
            readIv = Tls13Psk.expandLabel(read, "iv", new byte[0], 12);
            readSeq = writeSeq = 0;
        }

        void record(int type, byte[] body) throws IOException {
            out.write(new byte[] {(byte) type, 3, 3, (byte) (body.length >>> 8), (byte) body.length});
            out.write(body);
            out.flush();
        }

        /** An encrypted record of inner {@code type}; its bytes, for tests that tamper with them. */
        byte[] sealed(int type, byte[] content) throws Exception {
            byte[] plain = Arrays.copyOf(content, content.length + 1);
            plain[content.length] = (byte) type;
            byte[] head = {23, 3, 3, (byte) ((plain.length + 16) >>> 8), (byte) (plain.length + 16)};
            Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
            c.init(Cipher.ENCRYPT_MODE, new SecretKeySpec(writeKey, "AES"), nonce(writeIv, writeSeq++));
            c.updateAAD(head);
            byte[] body = c.doFinal(plain);
            byte[] rec = Arrays.copyOf(head, 5 + body.length);
            System.arraycopy(body, 0, rec, 5, body.length);
            return rec;
        }

        void seal(int type, byte[] content) throws Exception {
            out.write(sealed(type, content));
            out.flush();
        }

        int lastType;

        /** The next record's content: plaintext as it is, encrypted ones opened (once keys are set). */
        byte[] readRecord() throws Exception {
            byte[] head = new byte[5];
            in.readFully(head);
            byte[] body = new byte[(head[3] & 0xff) << 8 | head[4] & 0xff];
            in.readFully(body);
            lastType = head[0];
            if (head[0] != 23 || readKey == null) return body;
            Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
            c.init(Cipher.DECRYPT_MODE, new SecretKeySpec(readKey, "AES"), nonce(readIv, readSeq++));
            c.updateAAD(head);
            byte[] plain = c.doFinal(body);
            int i = plain.length - 1;
            while (plain[i] == 0) i--;
            lastType = plain[i];
            return Arrays.copyOf(plain, i);
        }

        static GCMParameterSpec nonce(byte[] iv, long seq) {
            byte[] n = iv.clone();
            for (int i = 0; i < 8; i++) n[4 + i] ^= (byte) (seq >>> (56 - 8 * i));
            return new GCMParameterSpec(128, n);
        }
    }

    /** The server answered the hello with an alert. */
    static final class Refused extends Exception {
        final int description;

        Refused(int description) {
            super("alert " + description);
            this.description = description;
        }
    }

    @Test
    void handshakeThenDataBothWays() throws Exception {
        CompletableFuture<String> server = server(Map.of("bob", new byte[16], "alice", KEY));
        Client c = new Client(listener.getLocalPort());
        c.handshake("alice", KEY);
        c.seal(23, "hello".getBytes(StandardCharsets.US_ASCII));
        assertEquals("world", new String(c.readRecord(), StandardCharsets.US_ASCII));
        assertEquals(23, c.lastType);
        assertEquals("alice:hello", server.get(20, TimeUnit.SECONDS));
        c.s.close();
    }

    @Test
    void aWrongKeyIsRefusedWithDecryptError() throws Exception {
        CompletableFuture<String> server = server(Map.of("alice", KEY));
        Client c = new Client(listener.getLocalPort());
        byte[] wrong = KEY.clone();
        wrong[0] ^= 1;
        Refused r = assertThrows(Refused.class, () -> c.handshake("alice", wrong));
        assertEquals(51, r.description);
        String s = server.get(20, TimeUnit.SECONDS);
        assertTrue(s.contains("the PSK of user alice does not match"), s);
        c.s.close();
    }

    @Test
    void anUnknownUserIsRefused() throws Exception {
        CompletableFuture<String> server = server(Map.of("alice", KEY));
        Client c = new Client(listener.getLocalPort());
        Refused r = assertThrows(Refused.class, () -> c.handshake("mallory", KEY));
        assertEquals(115, r.description);
        assertTrue(server.get(20, TimeUnit.SECONDS).contains("not in the tls-psk file"));
        c.s.close();
    }

    @Test
    void aTamperedRecordEndsTheConnection() throws Exception {
        CompletableFuture<String> server = server(Map.of("alice", KEY));
        Client c = new Client(listener.getLocalPort());
        c.handshake("alice", KEY);
        byte[] rec = c.sealed(23, "hello".getBytes(StandardCharsets.US_ASCII));
        rec[7] ^= 0x20;
        c.out.write(rec);
        c.out.flush();
        String s = server.get(20, TimeUnit.SECONDS);
        assertTrue(s.contains("does not decrypt"), s);
        c.s.close();
    }
}
