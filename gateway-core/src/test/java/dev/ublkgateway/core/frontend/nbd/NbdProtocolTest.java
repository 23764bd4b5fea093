package dev.ublkgateway.core.frontend.nbd;

import dev.ublkgateway.api.BlockOp;
import dev.ublkgateway.api.Target;
import dev.ublkgateway.core.chain.DeviceChain;
import dev.ublkgateway.core.stages.FaultStage;
import dev.ublkgateway.core.targets.MemoryTarget;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.EOFException;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.*;

/** The server against hand-written traffic: options, pipelining, and malformed or hostile requests. */
class NbdProtocolTest {
    static final long SIZE = 16L << 20;
    static final int MAX_IO = 1 << 20;

    @TempDir
    Path dir;
    Target mem;
    NbdServer server;
    Path sock;

    @BeforeEach
    void start() throws Exception {
        mem = new MemoryTarget(dir.resolve("m.mem"), SIZE);
        sock = dir.resolve("s.sock");
        server = new NbdServer(List.of(new Export("m0", mem, SIZE, 512, MAX_IO, 16, 1, true, false)),
                List.of(ListenAddress.parse("unix:" + sock)), 16);
        server.start();
    }

    @AfterEach
    void stop() throws Exception {
        server.close();
        mem.close();
    }

    /** A minimal client speaking the protocol byte by byte. */
    final class Client implements AutoCloseable {
        final SocketChannel ch;
        boolean structured;

        Client() throws IOException {
            ch = SocketChannel.open(StandardProtocolFamily.UNIX);
            ch.connect(UnixDomainSocketAddress.of(sock));
            ByteBuffer hello = read(18);
            assertEquals(Nbd.NBDMAGIC, hello.getLong());
            assertEquals(Nbd.IHAVEOPT, hello.getLong());
            assertEquals(Nbd.FLAG_FIXED_NEWSTYLE | Nbd.FLAG_NO_ZEROES, hello.getShort());
            write(ByteBuffer.allocate(4).putInt(0, Nbd.FLAG_FIXED_NEWSTYLE | Nbd.FLAG_NO_ZEROES));
        }

        void option(int opt, byte[] data) throws IOException {
            ByteBuffer b = ByteBuffer.allocate(16 + data.length).putLong(Nbd.IHAVEOPT).putInt(opt).putInt(data.length).put(data);
            write(b.flip());
        }

        /** Reads one option reply: {type, payload}. */
        Object[] optionReply(int opt) throws IOException {
            ByteBuffer h = read(20);
            assertEquals(Nbd.OPT_REPLY_MAGIC, h.getLong());
            assertEquals(opt, h.getInt());
            int type = h.getInt();
            int len = h.getInt();
            return new Object[] {type, read(len)};
        }

        /** NBD_OPT_GO for {@code name}; returns the reply type that ended it (ACK or an error). */
        int go(String name) throws IOException {
            byte[] n = name.getBytes(StandardCharsets.UTF_8);
            option(Nbd.OPT_GO, ByteBuffer.allocate(6 + n.length).putInt(n.length).put(n).putShort((short) 0).array());
            while (true) {
                Object[] r = optionReply(Nbd.OPT_GO);
                int type = (int) r[0];
                if (type != Nbd.REP_INFO) return type;
            }
        }

        void structured() throws IOException {
            option(Nbd.OPT_STRUCTURED_REPLY, new byte[0]);
            assertEquals(Nbd.REP_ACK, (int) optionReply(Nbd.OPT_STRUCTURED_REPLY)[0]);
            structured = true;
        }

        void request(int type, int flags, long cookie, long offset, long length, byte[] payload) throws IOException {
            ByteBuffer b = ByteBuffer.allocate(28 + (payload == null ? 0 : payload.length));
            b.putInt(Nbd.REQUEST_MAGIC).putShort((short) flags).putShort((short) type).putLong(cookie).putLong(offset)
                    .putInt((int) length);
            if (payload != null) b.put(payload);
            write(b.flip());
        }

        /** A simple reply: {error, cookie}. */
        long[] simpleReply() throws IOException {
            ByteBuffer r = read(16);
            assertEquals(Nbd.SIMPLE_REPLY_MAGIC, r.getInt());
            return new long[] {r.getInt(), r.getLong()};
        }

        ByteBuffer read(int n) throws IOException {
            ByteBuffer b = ByteBuffer.allocate(n);
            while (b.hasRemaining()) if (ch.read(b) < 0) throw new EOFException("closed after " + b.position() + " of " + n);
            return b.flip();
        }

        void write(ByteBuffer b) throws IOException {
            while (b.hasRemaining()) ch.write(b);
        }

        boolean closedByServer() throws Exception {
            return NbdProtocolTest.closedByServer(ch);
        }

        @Override
        public void close() throws IOException {
            ch.close();
        }
    }

    /** True when the server closes {@code ch} within 5 s (end of file or reset). */
    static boolean closedByServer(SocketChannel ch) throws Exception {
        var f = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
            try {
                return ch.read(ByteBuffer.allocate(1)) < 0;
            } catch (IOException e) {
                return true;
            }
        });
        try {
            return f.get(5, java.util.concurrent.TimeUnit.SECONDS);
        } catch (java.util.concurrent.TimeoutException e) {
            ch.close();
            return false;
        }
    }

    static byte[] pattern(int n, int seed) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) b[i] = (byte) (i * 31 + seed);
        return b;
    }

    Client ready() throws IOException {
        Client c = new Client();
        assertEquals(Nbd.REP_ACK, c.go("m0"));
        return c;
    }

    @Test
    void listInfoAndUnknownExport() throws Exception {
        try (Client c = new Client()) {
            c.option(Nbd.OPT_LIST, new byte[0]);
            Object[] r = c.optionReply(Nbd.OPT_LIST);
            assertEquals(Nbd.REP_SERVER, (int) r[0]);
            ByteBuffer p = (ByteBuffer) r[1];
            int len = p.getInt();
            assertEquals("m0", StandardCharsets.UTF_8.decode(p.slice(4, len)).toString());
            assertEquals(Nbd.REP_ACK, (int) c.optionReply(Nbd.OPT_LIST)[0]);
            assertEquals(Nbd.REP_ERR_UNKNOWN, c.go("nope"));
            c.option(99, new byte[3]);
            assertEquals(Nbd.REP_ERR_UNSUP, (int) c.optionReply(99)[0]);
            assertEquals(Nbd.REP_ACK, c.go("")); // the default export
            c.request(Nbd.CMD_READ, 0, 1, 0, 512, null);
            assertEquals(0, c.simpleReply()[0]);
            c.read(512);
        }
    }

    @Test
    void exportNameOptionAndOldClients() throws Exception {
        try (Client c = new Client()) {
            c.option(Nbd.OPT_EXPORT_NAME, "m0".getBytes(StandardCharsets.UTF_8));
            ByteBuffer r = c.read(10);
            assertEquals(SIZE, r.getLong());
            assertTrue((r.getShort() & Nbd.TF_SEND_FLUSH) != 0);
            c.request(Nbd.CMD_FLUSH, 0, 7, 0, 0, null);
            assertArrayEquals(new long[] {0, 7}, c.simpleReply());
        }
    }

    @Test
    void pipelinedRequestsAllAnswered() throws Exception {
        try (Client c = ready()) {
            int n = 64; // more than the depth of 16: the server pushes back, never drops
            for (int i = 0; i < n; i++) c.request(Nbd.CMD_WRITE, Nbd.CMD_FLAG_FUA, 1000 + i, i * 4096L, 4096, pattern(4096, i));
            Set<Long> cookies = new HashSet<>();
            for (int i = 0; i < n; i++) {
                long[] r = c.simpleReply();
                assertEquals(0, r[0]);
                cookies.add(r[1]);
            }
            assertEquals(n, cookies.size());
            for (int i = 0; i < n; i++) c.request(Nbd.CMD_READ, 0, 5000 + i, i * 4096L, 4096, null);
            for (int i = 0; i < n; i++) {
                long[] r = c.simpleReply();
                assertEquals(0, r[0]);
                int idx = (int) (r[1] - 5000);
                assertArrayEquals(pattern(4096, idx), c.read(4096).array());
            }
        }
    }

    @Test
    void aRequestAStageHoldsDoesNotHoldUpTheOthers() throws Exception {
        server.close();
        // reads of the first 4 KiB are held 300 ms; writes to the next 4 KiB are held, then fail with ENOSPC
        DeviceChain chain = new DeviceChain(List.of(
                new FaultStage(1 << BlockOp.READ, 0, 4096, 0, 1.0, 300_000, 0),
                new FaultStage(1 << BlockOp.WRITE, 4096, 8192, 28, 1.0, 300_000, 0)), mem);
        server = new NbdServer(List.of(new Export("m0", chain, SIZE, 512, MAX_IO, 16, 1, true, false)),
                List.of(ListenAddress.parse("unix:" + sock)), 16);
        server.start();
        try (Client c = ready()) {
            c.request(Nbd.CMD_WRITE, 0, 1, 8192, 4096, pattern(4096, 9));
            assertArrayEquals(new long[] {0, 1}, c.simpleReply());
            long t0 = System.nanoTime();
            c.request(Nbd.CMD_READ, 0, 2, 0, 4096, null);       // held
            c.request(Nbd.CMD_WRITE, 0, 3, 4096, 4096, pattern(4096, 1)); // held, then fails
            c.request(Nbd.CMD_READ, 0, 4, 8192, 4096, null);    // passes at once
            long[] r = c.simpleReply();
            assertArrayEquals(new long[] {0, 4}, r, "the unheld read is answered first");
            assertArrayEquals(pattern(4096, 9), c.read(4096).array());
            assertTrue((System.nanoTime() - t0) / 1e6 < 250, "the unheld read waited for the held ones");
            Set<Long> rest = new HashSet<>();
            for (int i = 0; i < 2; i++) {
                r = c.simpleReply();
                rest.add(r[1]);
                if (r[1] == 2) {
                    assertEquals(0, r[0]);
                    c.read(4096);
                } else {
                    assertEquals(Nbd.ENOSPC, r[0], "the held write failed with the injected errno");
                }
            }
            assertEquals(Set.of(2L, 3L), rest);
            assertTrue((System.nanoTime() - t0) / 1e6 >= 300, "the held requests were delayed 300 ms");
        }
    }

    @Test
    void structuredReadAndErrorReplies() throws Exception {
        try (Client c = new Client()) {
            c.structured();
            assertEquals(Nbd.REP_ACK, c.go("m0"));
            c.request(Nbd.CMD_WRITE, 0, 1, 8192, 1024, pattern(1024, 3));
            assertEquals(0, c.simpleReply()[0]);
            c.request(Nbd.CMD_READ, 0, 2, 8192, 1024, null);
            ByteBuffer h = c.read(20);
            assertEquals(Nbd.STRUCTURED_REPLY_MAGIC, h.getInt());
            assertEquals(Nbd.REPLY_FLAG_DONE, h.getShort());
            assertEquals(Nbd.REPLY_TYPE_OFFSET_DATA, h.getShort());
            assertEquals(2, h.getLong());
            assertEquals(8 + 1024, h.getInt());
            assertEquals(8192, c.read(8).getLong());
            assertArrayEquals(pattern(1024, 3), c.read(1024).array());
            c.request(Nbd.CMD_READ, 0, 3, SIZE - 512, 1024, null); // beyond the end
            h = c.read(20);
            assertEquals(Nbd.STRUCTURED_REPLY_MAGIC, h.getInt());
            h.getShort();
            assertEquals(Nbd.REPLY_TYPE_ERROR, h.getShort() & 0xffff);
            assertEquals(3, h.getLong());
            int len = h.getInt();
            assertEquals(Nbd.EINVAL, c.read(len).getInt());
        }
    }

    @Test
    void invalidRequestsGetErrorsAndTheConnectionGoesOn() throws Exception {
        try (Client c = ready()) {
            c.request(Nbd.CMD_READ, 0, 1, SIZE, 512, null);
            assertArrayEquals(new long[] {Nbd.EINVAL, 1}, c.simpleReply());
            c.request(Nbd.CMD_WRITE, 0, 2, SIZE - 512, 1024, new byte[1024]);
            assertArrayEquals(new long[] {Nbd.ENOSPC, 2}, c.simpleReply());
            c.request(Nbd.CMD_READ, 0, 3, 100, 512, null); // unaligned
            assertArrayEquals(new long[] {Nbd.EINVAL, 3}, c.simpleReply());
            c.request(42, 0, 4, 0, 0, null); // unknown command
            assertArrayEquals(new long[] {Nbd.EINVAL, 4}, c.simpleReply());
            c.request(Nbd.CMD_READ, 0, 5, 0, 4L << 20, null); // above the maximum block size
            assertArrayEquals(new long[] {Nbd.EINVAL, 5}, c.simpleReply());
            c.request(Nbd.CMD_WRITE, 0, 6, 0, 2 * MAX_IO, new byte[2 * MAX_IO]); // payload is skipped
            assertArrayEquals(new long[] {Nbd.EINVAL, 6}, c.simpleReply());
            c.request(Nbd.CMD_READ, 0x80, 7, 0, 512, null); // unknown flag
            assertArrayEquals(new long[] {Nbd.EINVAL, 7}, c.simpleReply());
            c.request(Nbd.CMD_WRITE, 0, 8, 0, 512, pattern(512, 9));
            assertArrayEquals(new long[] {0, 8}, c.simpleReply());
            c.request(Nbd.CMD_READ, 0, 9, 0, 512, null);
            assertArrayEquals(new long[] {0, 9}, c.simpleReply());
            assertArrayEquals(pattern(512, 9), c.read(512).array());
            c.request(Nbd.CMD_TRIM, 0, 10, 0, 4096, null);
            assertArrayEquals(new long[] {0, 10}, c.simpleReply());
            c.request(Nbd.CMD_WRITE_ZEROES, Nbd.CMD_FLAG_NO_HOLE, 11, 4096, 4096, null);
            assertArrayEquals(new long[] {0, 11}, c.simpleReply());
            c.request(Nbd.CMD_READ, 0, 12, 0, 8192, null);
            assertArrayEquals(new long[] {0, 12}, c.simpleReply());
            assertArrayEquals(new byte[8192], c.read(8192).array());
            c.request(Nbd.CMD_DISC, 0, 13, 0, 0, null);
            assertTrue(c.closedByServer());
        }
    }

    @Test
    void badMagicClosesOnlyThatConnection() throws Exception {
        try (Client c = ready()) {
            c.write(ByteBuffer.wrap(new byte[28]));
            assertTrue(c.closedByServer());
        }
        try (Client c = ready()) {
            c.request(Nbd.CMD_FLUSH, 0, 1, 0, 0, null);
            assertArrayEquals(new long[] {0, 1}, c.simpleReply());
        }
    }

    @Test
    void clientVanishingMidWriteLeavesNoTrace() throws Exception {
        try (Client c = ready()) {
            c.request(Nbd.CMD_WRITE, 0, 1, 0, 4096, pattern(4096, 1));
            assertEquals(0, c.simpleReply()[0]);
        }
        try (Client c = ready()) {
            ByteBuffer b = ByteBuffer.allocate(28 + 1000);
            b.putInt(Nbd.REQUEST_MAGIC).putShort((short) 0).putShort((short) Nbd.CMD_WRITE).putLong(2).putLong(0).putInt(4096);
            b.put(new byte[1000]);
            c.write(b.flip()); // then disconnect with 3096 bytes missing
        }
        try (Client c = ready()) { // the torn write never reached the target
            c.request(Nbd.CMD_READ, 0, 3, 0, 4096, null);
            assertEquals(0, c.simpleReply()[0]);
            assertArrayEquals(pattern(4096, 1), c.read(4096).array());
        }
        // a client that leaves in the middle of the handshake
        try (SocketChannel ch = SocketChannel.open(UnixDomainSocketAddress.of(sock))) {
            ch.write(ByteBuffer.allocate(2));
        } catch (IOException closedAlready) {
            // fine: the server may drop it first
        }
        try (Client c = ready()) {
            c.request(Nbd.CMD_FLUSH, 0, 4, 0, 0, null);
            assertArrayEquals(new long[] {0, 4}, c.simpleReply());
        }
    }

    @Test
    void connectionLimitAndHostileOptions() throws Exception {
        server.close();
        server = new NbdServer(List.of(new Export("m0", mem, SIZE, 512, MAX_IO, 16, 1, true, false)),
                List.of(ListenAddress.parse("unix:" + sock)), 3);
        server.start();
        try (Client a = ready(); Client b = ready(); Client c = ready()) {
            for (int i = 0; i < 50 && server.connectionCount() < 3; i++) Thread.sleep(20);
            SocketChannel d = SocketChannel.open(UnixDomainSocketAddress.of(sock));
            assertTrue(closedByServer(d), "a fourth connection is refused");
            d.close();
        }
        for (int i = 0; i < 100 && server.connectionCount() > 0; i++) Thread.sleep(20);
        assertEquals(0, server.connectionCount(), "every connection ended");
        try (Client c = new Client()) { // an option claiming 1 GiB of data
            c.write(ByteBuffer.allocate(16).putLong(Nbd.IHAVEOPT).putInt(Nbd.OPT_GO).putInt(1 << 30).flip());
            c.write(ByteBuffer.allocate(Handshake.MAX_OPTION_LENGTH + 1));
            c.ch.shutdownOutput();
            assertTrue(c.closedByServer());
        }
        for (int i = 0; i < 100 && server.connectionCount() > 0; i++) Thread.sleep(20);
        assertEquals(0, server.connectionCount(), "every connection ended");
        try (Client c = ready()) {
            c.request(Nbd.CMD_FLUSH, 0, 1, 0, 0, null);
            assertArrayEquals(new long[] {0, 1}, c.simpleReply());
        }
    }
}
