package dev.ublkgateway.core.frontend.nbd;

import dev.ublkgateway.api.BlockStage;
import dev.ublkgateway.api.ExtentSink;
import dev.ublkgateway.api.StageQueue;
import dev.ublkgateway.api.Target;
import dev.ublkgateway.core.chain.DeviceChain;
import dev.ublkgateway.core.targets.MemoryTarget;
import dev.ublkgateway.core.targets.NullTarget;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.EOFException;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** NBD_OPT_*_META_CONTEXT and NBD_CMD_BLOCK_STATUS against hand-written traffic, and the extent merging. */
class NbdBlockStatusTest {
    static final long SIZE = 16L << 20;
    static final int HOLE = Nbd.STATE_HOLE | Nbd.STATE_ZERO;

    @TempDir
    Path dir;
    Target mem, ciphered;
    NbdServer server;
    Path sock;

    @BeforeEach
    void start() throws Exception {
        mem = new MemoryTarget(dir.resolve("m.mem"), SIZE);
        // a stage that is not known to keep data as it is (as a cipher would): no holes show through it
        BlockStage opaque = q -> (StageQueue) (r, next) -> next.submit(r);
        ciphered = new DeviceChain(List.of(opaque), new MemoryTarget(dir.resolve("c.mem"), SIZE));
        sock = dir.resolve("s.sock");
        server = new NbdServer(List.of(
                new Export("m0", mem, SIZE, 512, 1 << 20, 16, 1, true, false),
                new Export("n0", new NullTarget(), SIZE, 4096, 1 << 20, 16, 1, true, false),
                new Export("c0", ciphered, SIZE, 512, 1 << 20, 16, 1, true, false)),
                List.of(ListenAddress.parse("unix:" + sock)), 16);
        server.start();
    }

    @AfterEach
    void stop() throws Exception {
        server.close();
        mem.close();
        ciphered.close();
    }

    @Test
    void listWorksWithoutStructuredRepliesAndIgnoresUnknownNamespaces() throws Exception {
        try (Client c = new Client()) {
            assertEquals(List.of(Nbd.CONTEXT_ALLOCATION), c.meta(Nbd.OPT_LIST_META_CONTEXT, "m0"));
            assertEquals(List.of(Nbd.CONTEXT_ALLOCATION), c.meta(Nbd.OPT_LIST_META_CONTEXT, "m0", "base:"));
            assertEquals(List.of(Nbd.CONTEXT_ALLOCATION), c.meta(Nbd.OPT_LIST_META_CONTEXT, "", "qemu:dirty-bitmap:x",
                    Nbd.CONTEXT_ALLOCATION));
            assertEquals(List.of(), c.meta(Nbd.OPT_LIST_META_CONTEXT, "m0", "qemu:dirty-bitmap:x", "base:other"));
        }
    }

    @Test
    void negotiationErrors() throws Exception {
        try (Client c = new Client()) {
            c.sendMeta(Nbd.OPT_SET_META_CONTEXT, "m0", Nbd.CONTEXT_ALLOCATION);
            assertEquals(Nbd.REP_ERR_INVALID, c.replyType(Nbd.OPT_SET_META_CONTEXT), "SET before structured replies");
            c.structured();
            c.sendMeta(Nbd.OPT_SET_META_CONTEXT, "nope", Nbd.CONTEXT_ALLOCATION);
            assertEquals(Nbd.REP_ERR_UNKNOWN, c.replyType(Nbd.OPT_SET_META_CONTEXT));
            // says two queries, carries one
            byte[] q = Nbd.CONTEXT_ALLOCATION.getBytes(StandardCharsets.UTF_8);
            c.option(Nbd.OPT_SET_META_CONTEXT, ByteBuffer.allocate(4 + 2 + 4 + 4 + q.length).putInt(2)
                    .put("m0".getBytes(StandardCharsets.UTF_8)).putInt(2).putInt(q.length).put(q).array());
            assertEquals(Nbd.REP_ERR_INVALID, c.replyType(Nbd.OPT_SET_META_CONTEXT));
            c.option(Nbd.OPT_LIST_META_CONTEXT, new byte[] {0, 0, 0, 9});
            assertEquals(Nbd.REP_ERR_INVALID, c.replyType(Nbd.OPT_LIST_META_CONTEXT));
            // the handshake goes on after all of them
            assertEquals(List.of(Nbd.CONTEXT_ALLOCATION), c.meta(Nbd.OPT_SET_META_CONTEXT, "m0", Nbd.CONTEXT_ALLOCATION));
            assertEquals(Nbd.REP_ACK, c.go("m0"));
            c.blockStatus(0, 1, 0, 4096);
            assertEquals(List.of(4096L, (long) HOLE), c.statusReply(1));
        }
    }

    @Test
    void blockStatusWithoutContextIsEinval() throws Exception {
        try (Client c = new Client()) {
            c.structured();
            assertEquals(Nbd.REP_ACK, c.go("m0"));
            c.blockStatus(0, 7, 0, 4096);
            assertEquals(Nbd.EINVAL, c.errorReply(7));
        }
        try (Client c = new Client()) { // without structured replies: a simple reply
            assertEquals(Nbd.REP_ACK, c.go("m0"));
            c.blockStatus(0, 8, 0, 4096);
            ByteBuffer r = c.read(16);
            assertEquals(Nbd.SIMPLE_REPLY_MAGIC, r.getInt());
            assertEquals(Nbd.EINVAL, r.getInt());
            assertEquals(8, r.getLong());
        }
    }

    @Test
    void contextSetForAnotherExportDoesNotCarryOver() throws Exception {
        try (Client c = new Client()) {
            c.structured();
            assertEquals(List.of(Nbd.CONTEXT_ALLOCATION), c.meta(Nbd.OPT_SET_META_CONTEXT, "n0", Nbd.CONTEXT_ALLOCATION));
            assertEquals(Nbd.REP_ACK, c.go("m0"));
            c.blockStatus(0, 3, 0, 4096);
            assertEquals(Nbd.EINVAL, c.errorReply(3));
        }
        try (Client c = new Client()) { // an empty SET clears an earlier one
            c.structured();
            c.meta(Nbd.OPT_SET_META_CONTEXT, "m0", Nbd.CONTEXT_ALLOCATION);
            assertEquals(List.of(), c.meta(Nbd.OPT_SET_META_CONTEXT, "m0"));
            assertEquals(Nbd.REP_ACK, c.go("m0"));
            c.blockStatus(0, 4, 0, 4096);
            assertEquals(Nbd.EINVAL, c.errorReply(4));
        }
    }

    @Test
    void extentsOfAWrittenRangeAmongHoles() throws Exception {
        try (Client c = new Client()) {
            c.structured();
            assertEquals(List.of(Nbd.CONTEXT_ALLOCATION), c.meta(Nbd.OPT_SET_META_CONTEXT, "m0", "base:"));
            assertEquals(Nbd.REP_ACK, c.go("m0"));
            byte[] data = new byte[64 << 10];
            java.util.Arrays.fill(data, (byte) 0x5a);
            c.request(Nbd.CMD_WRITE, 0, 1, 1 << 20, data.length, data);
            ByteBuffer w = c.read(16);
            assertEquals(0, w.getInt(4), "write");
            c.blockStatus(0, 2, 0, 4 << 20);
            assertEquals(List.of(1L << 20, (long) HOLE, 64L << 10, 0L, (3L << 20) - (64 << 10), (long) HOLE),
                    c.statusReply(2));
            c.blockStatus(Nbd.CMD_FLAG_REQ_ONE, 3, 0, 4 << 20);
            assertEquals(List.of(1L << 20, (long) HOLE), c.statusReply(3));
            c.blockStatus(Nbd.CMD_FLAG_REQ_ONE, 4, (1 << 20) + 4096, 4096);
            assertEquals(List.of(4096L, 0L), c.statusReply(4));
            // bad requests: EINVAL, and the connection goes on
            c.blockStatus(0, 5, 0, 0);
            assertEquals(Nbd.EINVAL, c.errorReply(5));
            c.blockStatus(0, 6, SIZE - 4096, 8192);
            assertEquals(Nbd.EINVAL, c.errorReply(6));
            c.blockStatus(0, 7, 100, 4096);
            assertEquals(Nbd.EINVAL, c.errorReply(7));
            c.blockStatus(Nbd.CMD_FLAG_FUA, 8, 0, 4096);
            assertEquals(Nbd.EINVAL, c.errorReply(8));
            c.blockStatus(0, 9, SIZE - 4096, 4096);
            assertEquals(List.of(4096L, (long) HOLE), c.statusReply(9));
        }
    }

    @Test
    void nullTargetIsAllHoleAndAStageThatMayChangeDataHidesHoles() throws Exception {
        try (Client c = new Client()) {
            c.structured();
            c.meta(Nbd.OPT_SET_META_CONTEXT, "n0", Nbd.CONTEXT_ALLOCATION);
            assertEquals(Nbd.REP_ACK, c.go("n0"));
            c.blockStatus(0, 1, 0, SIZE);
            assertEquals(List.of(SIZE, (long) ExtentSink.HOLE), c.statusReply(1));
        }
        try (Client c = new Client()) {
            c.structured();
            c.meta(Nbd.OPT_SET_META_CONTEXT, "c0", Nbd.CONTEXT_ALLOCATION);
            assertEquals(Nbd.REP_ACK, c.go("c0"));
            c.blockStatus(0, 1, 0, SIZE);
            assertEquals(List.of(SIZE, 0L), c.statusReply(1));
        }
    }

    @Test
    void extentsAreMergedOntoWholeBlocksAndLimited() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(64);
            ExtentReply r = new ExtentReply();
            // a block that is part hole, part data is data
            r.start(out, 8, 4096, 16384);
            assertTrue(r.extent(1000, ExtentSink.HOLE | ExtentSink.ZERO));
            assertTrue(r.extent(5000, 0));
            assertFalse(r.extent(20000, ExtentSink.HOLE | ExtentSink.ZERO), "more than asked: enough");
            assertEquals(List.of(8192L, 0L, 8192L, (long) HOLE), descriptors(out, r.finish(16384)));
            // at most max descriptors: the rest is left out
            r.start(out, 2, 512, 4096);
            assertTrue(r.extent(512, 0));
            assertTrue(r.extent(512, 0));
            assertTrue(r.extent(1024, ExtentSink.HOLE));
            assertFalse(r.extent(512, 0));
            assertEquals(List.of(1024L, 0L, 1024L, 1L), descriptors(out, r.finish(4096)));
            // a target that says nothing: all data
            r.start(out, 8, 512, 4096);
            assertEquals(List.of(4096L, 0L), descriptors(out, r.finish(4096)));
        }
    }

    static List<Long> descriptors(MemorySegment out, int bytes) {
        List<Long> l = new ArrayList<>();
        for (int i = 0; i < bytes; i += 4) l.add(Integer.toUnsignedLong(out.get(Handshake.BE_INT, i)));
        return l;
    }

    /** A minimal client speaking the protocol byte by byte. */
    final class Client implements AutoCloseable {
        final SocketChannel ch;

        Client() throws IOException {
            ch = SocketChannel.open(StandardProtocolFamily.UNIX);
            ch.connect(UnixDomainSocketAddress.of(sock));
            read(18);
            write(ByteBuffer.allocate(4).putInt(0, Nbd.FLAG_FIXED_NEWSTYLE | Nbd.FLAG_NO_ZEROES));
        }

        void option(int opt, byte[] data) throws IOException {
            write(ByteBuffer.allocate(16 + data.length).putLong(Nbd.IHAVEOPT).putInt(opt).putInt(data.length).put(data).flip());
        }

        /** Reads one option reply's header and payload: {type, payload}. */
        Object[] optionReply(int opt) throws IOException {
            ByteBuffer h = read(20);
            assertEquals(Nbd.OPT_REPLY_MAGIC, h.getLong());
            assertEquals(opt, h.getInt());
            int type = h.getInt();
            return new Object[] {type, read(h.getInt())};
        }

        int replyType(int opt) throws IOException {
            return (int) optionReply(opt)[0];
        }

        void sendMeta(int opt, String export, String... queries) throws IOException {
            byte[] n = export.getBytes(StandardCharsets.UTF_8);
            int len = 8 + n.length;
            for (String q : queries) len += 4 + q.getBytes(StandardCharsets.UTF_8).length;
            ByteBuffer b = ByteBuffer.allocate(len).putInt(n.length).put(n).putInt(queries.length);
            for (String q : queries) {
                byte[] qb = q.getBytes(StandardCharsets.UTF_8);
                b.putInt(qb.length).put(qb);
            }
            option(opt, b.array());
        }

        /** A LIST or SET that must succeed; returns the contexts it named, after checking their id. */
        List<String> meta(int opt, String export, String... queries) throws IOException {
            sendMeta(opt, export, queries);
            List<String> names = new ArrayList<>();
            while (true) {
                Object[] r = optionReply(opt);
                if ((int) r[0] == Nbd.REP_ACK) return names;
                assertEquals(Nbd.REP_META_CONTEXT, (int) r[0]);
                ByteBuffer p = (ByteBuffer) r[1];
                assertEquals(Nbd.CONTEXT_ALLOCATION_ID, p.getInt());
                names.add(StandardCharsets.UTF_8.decode(p).toString());
            }
        }

        int go(String name) throws IOException {
            byte[] n = name.getBytes(StandardCharsets.UTF_8);
            option(Nbd.OPT_GO, ByteBuffer.allocate(6 + n.length).putInt(n.length).put(n).putShort((short) 0).array());
            while (true) {
                int type = replyType(Nbd.OPT_GO);
                if (type != Nbd.REP_INFO) return type;
            }
        }

        void structured() throws IOException {
            option(Nbd.OPT_STRUCTURED_REPLY, new byte[0]);
            assertEquals(Nbd.REP_ACK, replyType(Nbd.OPT_STRUCTURED_REPLY));
        }

        void request(int type, int flags, long cookie, long offset, long length, byte[] payload) throws IOException {
            ByteBuffer b = ByteBuffer.allocate(28 + (payload == null ? 0 : payload.length));
            b.putInt(Nbd.REQUEST_MAGIC).putShort((short) flags).putShort((short) type).putLong(cookie).putLong(offset)
                    .putInt((int) length);
            if (payload != null) b.put(payload);
            write(b.flip());
        }

        void blockStatus(int flags, long cookie, long offset, long length) throws IOException {
            request(Nbd.CMD_BLOCK_STATUS, flags, cookie, offset, length, null);
        }

        /** A structured chunk's header: {flags, type, length}, after checking magic and cookie. */
        int[] chunk(long cookie) throws IOException {
            ByteBuffer h = read(20);
            assertEquals(Nbd.STRUCTURED_REPLY_MAGIC, h.getInt());
            int flags = h.getShort(), type = h.getShort() & 0xffff;
            assertEquals(cookie, h.getLong());
            return new int[] {flags, type, h.getInt()};
        }

        /** The one BLOCK_STATUS chunk: its descriptors as length, flags, length, flags... */
        List<Long> statusReply(long cookie) throws IOException {
            int[] h = chunk(cookie);
            assertEquals(Nbd.REPLY_FLAG_DONE, h[0]);
            assertEquals(Nbd.REPLY_TYPE_BLOCK_STATUS, h[1], "reply type");
            assertEquals(4, h[2] % 8, "context id and whole descriptors");
            ByteBuffer p = read(h[2]);
            assertEquals(Nbd.CONTEXT_ALLOCATION_ID, p.getInt());
            List<Long> l = new ArrayList<>();
            while (p.hasRemaining()) l.add(Integer.toUnsignedLong(p.getInt()));
            return l;
        }

        /** A structured error chunk; returns its error. */
        int errorReply(long cookie) throws IOException {
            int[] h = chunk(cookie);
            assertEquals(Nbd.REPLY_FLAG_DONE, h[0]);
            assertEquals(Nbd.REPLY_TYPE_ERROR, h[1]);
            ByteBuffer p = read(h[2]);
            return p.getInt();
        }

        ByteBuffer read(int n) throws IOException {
            ByteBuffer b = ByteBuffer.allocate(n);
            while (b.hasRemaining()) if (ch.read(b) < 0) throw new EOFException("closed after " + b.position() + " of " + n);
            return b.flip();
        }

        void write(ByteBuffer b) throws IOException {
            while (b.hasRemaining()) ch.write(b);
        }

        @Override
        public void close() throws IOException {
            ch.close();
        }
    }
}
