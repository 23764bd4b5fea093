package dev.ublkgateway.core.frontend.nbd;

import dev.ublkgateway.api.Target;
import dev.ublkgateway.core.targets.MemoryTarget;
import dev.ublkgateway.core.tls.ServerCredentials;
import dev.ublkgateway.core.tls.TestCredentials;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.KeyStore;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/**
 * NBD_OPT_STARTTLS against a client written here: what each TLS mode allows before TLS, a real TLS
 * handshake with the JDK's client trusting the server's certificate, and I/O through it.
 */
class NbdTlsTest {
    static final long SIZE = 4L << 20;

    @TempDir
    Path dir;
    Target mem;
    NbdServer server;
    KeyStore serverKeys;

    NbdServer start(NbdTls.Mode mode, boolean verifyPeer) throws Exception {
        Path certs = dir.resolve("pki");
        serverKeys = TestCredentials.serverDir(certs, "EC");
        if (verifyPeer) TestCredentials.writePem(TestCredentials.keyStore("client", "EC"), certs.resolve(ServerCredentials.CA), null);
        mem = new MemoryTarget(dir.resolve("m.mem"), SIZE);
        server = new NbdServer(List.of(new Export("m0", mem, SIZE, 512, 1 << 20, 16, 1, true, false)),
                List.of(ListenAddress.parse("127.0.0.1:0")), 16)
                .tls(mode == NbdTls.Mode.OFF ? NbdTls.OFF : new NbdTls(mode, ServerCredentials.load(certs, verifyPeer)));
        server.start();
        return server;
    }

    @AfterEach
    void stop() throws Exception {
        if (server != null) server.close();
        if (mem != null) mem.close();
    }

    /** A client that can switch its streams to TLS in the middle of the handshake. */
    final class Client implements AutoCloseable {
        final Socket plain;
        Socket s;
        DataInputStream in;
        DataOutputStream out;

        Client() throws IOException {
            plain = new Socket("127.0.0.1", server.addresses().getFirst().port());
            use(plain);
            assertEquals(Nbd.NBDMAGIC, in.readLong());
            assertEquals(Nbd.IHAVEOPT, in.readLong());
            in.readShort();
            out.writeInt(Nbd.FLAG_FIXED_NEWSTYLE | Nbd.FLAG_NO_ZEROES);
        }

        private void use(Socket socket) throws IOException {
            s = socket;
            in = new DataInputStream(socket.getInputStream());
            out = new DataOutputStream(socket.getOutputStream());
        }

        void option(int opt, byte[] data) throws IOException {
            out.writeLong(Nbd.IHAVEOPT);
            out.writeInt(opt);
            out.writeInt(data.length);
            out.write(data);
            out.flush();
        }

        /** The type of the option's next reply (its payload is read and dropped). */
        int reply(int opt) throws IOException {
            assertEquals(Nbd.OPT_REPLY_MAGIC, in.readLong());
            assertEquals(opt, in.readInt());
            int type = in.readInt();
            in.readNBytes(in.readInt());
            return type;
        }

        int go(String name) throws IOException {
            byte[] n = name.getBytes(StandardCharsets.UTF_8);
            option(Nbd.OPT_GO, java.nio.ByteBuffer.allocate(6 + n.length).putInt(n.length).put(n).putShort((short) 0).array());
            int type;
            while ((type = reply(Nbd.OPT_GO)) == Nbd.REP_INFO) { }
            return type;
        }

        /** STARTTLS, then the TLS handshake as a client trusting the test server's certificate. */
        void startTls(KeyStore clientKeys) throws Exception {
            option(Nbd.OPT_STARTTLS, new byte[0]);
            assertEquals(Nbd.REP_ACK, reply(Nbd.OPT_STARTTLS));
            KeyStore trust = KeyStore.getInstance("PKCS12");
            trust.load(null, null);
            trust.setCertificateEntry("server", TestCredentials.certificate(serverKeys));
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(trust);
            KeyManagerFactory kmf = null;
            if (clientKeys != null) {
                kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
                kmf.init(clientKeys, TestCredentials.PASSWORD);
            }
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(kmf == null ? null : kmf.getKeyManagers(), tmf.getTrustManagers(), null);
            SSLSocket tls = (SSLSocket) ctx.getSocketFactory().createSocket(plain, "localhost", plain.getPort(), true);
            tls.setUseClientMode(true);
            tls.startHandshake();
            use(tls);
        }

        /** Writes {@code data} at {@code offset}, reads it back through simple replies, returns what came. */
        byte[] writeThenRead(long offset, byte[] data) throws IOException {
            out.writeInt(Nbd.REQUEST_MAGIC);
            out.writeShort(0);
            out.writeShort(Nbd.CMD_WRITE);
            out.writeLong(1);
            out.writeLong(offset);
            out.writeInt(data.length);
            out.write(data);
            out.writeInt(Nbd.REQUEST_MAGIC);
            out.writeShort(0);
            out.writeShort(Nbd.CMD_READ);
            out.writeLong(2);
            out.writeLong(offset);
            out.writeInt(data.length);
            out.flush();
            assertEquals(Nbd.SIMPLE_REPLY_MAGIC, in.readInt(), "a simple reply: structured replies asked before TLS are forgotten");
            assertEquals(0, in.readInt());
            assertEquals(1, in.readLong());
            assertEquals(Nbd.SIMPLE_REPLY_MAGIC, in.readInt());
            assertEquals(0, in.readInt());
            assertEquals(2, in.readLong());
            return in.readNBytes(data.length);
        }

        @Override
        public void close() throws IOException {
            s.close();
        }
    }

    static byte[] random(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    @Test
    void requireRefusesEveryOptionBeforeTls() throws Exception {
        start(NbdTls.Mode.REQUIRE, false);
        try (Client c = new Client()) {
            c.option(Nbd.OPT_STRUCTURED_REPLY, new byte[0]);
            assertEquals(Nbd.REP_ERR_TLS_REQD, c.reply(Nbd.OPT_STRUCTURED_REPLY));
            c.option(Nbd.OPT_LIST, new byte[0]);
            assertEquals(Nbd.REP_ERR_TLS_REQD, c.reply(Nbd.OPT_LIST));
            assertEquals(Nbd.REP_ERR_TLS_REQD, c.go("m0"));
            c.option(Nbd.OPT_EXPORT_NAME, "m0".getBytes(StandardCharsets.UTF_8));
            assertThrows(EOFException.class, () -> c.in.readLong(), "EXPORT_NAME has no error reply: the server closes");
        }
        try (Client c = new Client()) {
            c.option(Nbd.OPT_ABORT, new byte[0]);
            assertEquals(Nbd.REP_ACK, c.reply(Nbd.OPT_ABORT));
        }
    }

    @Test
    void requireServesAfterStartTls() throws Exception {
        start(NbdTls.Mode.REQUIRE, false);
        try (Client c = new Client()) {
            c.startTls(null);
            c.option(Nbd.OPT_STARTTLS, new byte[0]);
            assertEquals(Nbd.REP_ERR_INVALID, c.reply(Nbd.OPT_STARTTLS), "STARTTLS twice");
            c.option(Nbd.OPT_LIST, new byte[0]);
            assertEquals(Nbd.REP_SERVER, c.reply(Nbd.OPT_LIST));
            assertEquals(Nbd.REP_ACK, c.reply(Nbd.OPT_LIST));
            assertEquals(Nbd.REP_ACK, c.go("m0"));
            byte[] data = random(600 * 512, 1); // several TLS records each way
            assertArrayEquals(data, c.writeThenRead(8192, data));
        }
    }

    @Test
    void onServesPlainAndTlsClientsAndForgetsWhatCameBeforeTls() throws Exception {
        start(NbdTls.Mode.ON, false);
        byte[] data = random(65536, 2);
        try (Client plain = new Client()) {
            assertEquals(Nbd.REP_ACK, plain.go("m0"));
            assertArrayEquals(data, plain.writeThenRead(0, data));
        }
        try (Client c = new Client()) {
            c.option(Nbd.OPT_STRUCTURED_REPLY, new byte[0]);
            assertEquals(Nbd.REP_ACK, c.reply(Nbd.OPT_STRUCTURED_REPLY));
            c.startTls(null);
            assertEquals(Nbd.REP_ACK, c.go("m0"));
            assertArrayEquals(data, c.writeThenRead(0, data)); // simple replies: the structured ACK was forgotten
        }
    }

    @Test
    void offRefusesStartTlsByPolicy() throws Exception {
        start(NbdTls.Mode.OFF, false);
        try (Client c = new Client()) {
            c.option(Nbd.OPT_STARTTLS, new byte[0]);
            assertEquals(Nbd.REP_ERR_POLICY, c.reply(Nbd.OPT_STARTTLS));
            assertEquals(Nbd.REP_ACK, c.go("m0"));
        }
    }

    @Test
    void verifyPeerWantsTheClientsCertificate() throws Exception {
        start(NbdTls.Mode.REQUIRE, true);
        try (Client c = new Client()) {
            // TLS 1.3 clients learn of the refusal at their first read
            assertThrows(IOException.class, () -> {
                c.startTls(null);
                c.go("m0");
            });
        }
        try (Client c = new Client()) {
            c.startTls(TestCredentials.keyStore("client", "EC"));
            assertEquals(Nbd.REP_ACK, c.go("m0"));
            byte[] data = random(4096, 3);
            assertArrayEquals(data, c.writeThenRead(4096, data));
        }
    }

    @Test
    void aClientThatIsNotSpeakingTlsIsClosed() throws Exception {
        start(NbdTls.Mode.ON, false);
        try (Client c = new Client()) {
            c.option(Nbd.OPT_STARTTLS, new byte[0]);
            assertEquals(Nbd.REP_ACK, c.reply(Nbd.OPT_STARTTLS));
            c.option(Nbd.OPT_LIST, new byte[0]); // plain NBD where a ClientHello belongs
            assertThrows(IOException.class, () -> {
                while (true) c.in.readByte(); // an alert, perhaps, then the end
            });
        }
        assertTrue(server.connectionCount() <= 1);
    }
}
