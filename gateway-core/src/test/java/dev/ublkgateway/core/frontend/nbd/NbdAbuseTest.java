package dev.ublkgateway.core.frontend.nbd;

import dev.ublkgateway.core.targets.MemoryTarget;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.*;

/**
 * What a hostile client must not be able to do to the server: hold handshakes open, lock others out,
 * make the handshake grow without bound, flood the log; and a seeded fuzz of both protocol phases
 * checked against a model of the export's contents. Loopback only; every wait is bounded.
 */
class NbdAbuseTest {
    static final long SIZE = 1L << 20;
    static final int BLOCK = 512, MAX_IO = 64 * 1024;
    /** Replay a failure with -Dnbd.fuzz.seed=N (the failure message names N). */
    static final long SEED = Long.getLong("nbd.fuzz.seed", 0x6e62642dL);

    @TempDir
    Path dir;
    MemoryTarget mem;
    NbdServer server;
    int port;

    /** INFO and above from the NBD package; the logger is held so that the handler stays attached. */
    final Logger nbdLog = Logger.getLogger("dev.ublkgateway.core.frontend.nbd");
    final List<LogRecord> records = new CopyOnWriteArrayList<>();
    final Handler capture = new Handler() {
        @Override
        public void publish(LogRecord r) {
            if (r.getLevel().intValue() >= Level.INFO.intValue()) records.add(r);
        }

        @Override public void flush() {}
        @Override public void close() {}
    };

    @BeforeEach
    void setUp() throws IOException {
        mem = new MemoryTarget(dir.resolve("m.mem"), SIZE);
        nbdLog.addHandler(capture);
    }

    @AfterEach
    void tearDown() throws IOException {
        if (server != null) server.close();
        mem.close();
        nbdLog.removeHandler(capture);
    }

    void start(int maxConnections, long handshakeMillis, long logWindowMillis) throws IOException {
        server = new NbdServer(List.of(new Export("m0", mem, SIZE, BLOCK, MAX_IO, 8, 1, true, false)),
                List.of(ListenAddress.parse("127.0.0.1:0")), maxConnections);
        server.handshakeTimeout(handshakeMillis);
        server.logWindow(logWindowMillis);
        server.start();
        port = server.addresses().getFirst().port();
    }

    // ---- a raw client ---------------------------------------------------------------------------

    /** A TCP client speaking the protocol by hand; every read gives up after 5 s. */
    final class Raw implements AutoCloseable {
        final Socket s;
        final DataInputStream in;
        boolean structured;
        /** The offset of the READ being answered: structured chunks carry absolute offsets. */
        long readOffset;

        /** Connected from {@code from} (a loopback address such as 127.0.0.2, or null), hello read. */
        Raw(String from) throws IOException {
            s = new Socket();
            if (from != null) s.bind(new InetSocketAddress(InetAddress.getByName(from), 0));
            s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 5000);
            s.setSoTimeout(5000);
            s.setTcpNoDelay(true);
            in = new DataInputStream(s.getInputStream());
            assertEquals(Nbd.NBDMAGIC, in.readLong());
            assertEquals(Nbd.IHAVEOPT, in.readLong());
            assertEquals(Nbd.FLAG_FIXED_NEWSTYLE | Nbd.FLAG_NO_ZEROES, in.readShort());
        }

        Raw flags() throws IOException {
            write(ByteBuffer.allocate(4).putInt(Nbd.FLAG_FIXED_NEWSTYLE | Nbd.FLAG_NO_ZEROES).array());
            return this;
        }

        void write(byte[] b) throws IOException {
            s.getOutputStream().write(b);
        }

        void option(int opt, byte[] data) throws IOException {
            write(ByteBuffer.allocate(16 + data.length).putLong(Nbd.IHAVEOPT).putInt(opt).putInt(data.length).put(data).array());
        }

        /** One option reply: its type; the payload goes to {@code payload} when not null. */
        int optionReply(int opt, ByteArrayOutputStream payload) throws IOException {
            assertEquals(Nbd.OPT_REPLY_MAGIC, in.readLong());
            assertEquals(opt, in.readInt());
            int type = in.readInt();
            byte[] p = new byte[in.readInt()];
            in.readFully(p);
            if (payload != null) payload.write(p);
            return type;
        }

        /** Options, NBD_OPT_GO for m0: ready for requests. */
        Raw ready(boolean structuredReplies) throws IOException {
            flags();
            if (structuredReplies) {
                option(Nbd.OPT_STRUCTURED_REPLY, new byte[0]);
                assertEquals(Nbd.REP_ACK, optionReply(Nbd.OPT_STRUCTURED_REPLY, null));
                structured = true;
            }
            byte[] n = "m0".getBytes(StandardCharsets.UTF_8);
            option(Nbd.OPT_GO, ByteBuffer.allocate(6 + n.length).putInt(n.length).put(n).putShort((short) 0).array());
            int type;
            while ((type = optionReply(Nbd.OPT_GO, null)) == Nbd.REP_INFO) { /* export details */ }
            assertEquals(Nbd.REP_ACK, type);
            return this;
        }

        void request(int magic, int flags, int type, long cookie, long offset, long length, byte[] payload) throws IOException {
            ByteBuffer b = ByteBuffer.allocate(28 + (payload == null ? 0 : payload.length));
            b.putInt(magic).putShort((short) flags).putShort((short) type).putLong(cookie).putLong(offset).putInt((int) length);
            if (payload != null) b.put(payload);
            write(b.array());
        }

        /** The reply to {@code cookie}: its error (0 on success); a successful READ's data goes to {@code data}. */
        int reply(long cookie, boolean read, byte[] data) throws IOException {
            int magic = in.readInt();
            if (magic == Nbd.SIMPLE_REPLY_MAGIC) {
                int error = in.readInt();
                assertEquals(cookie, in.readLong(), "reply cookie");
                if (error == 0 && read) in.readFully(data);
                return error;
            }
            assertTrue(structured, "a structured reply without NBD_OPT_STRUCTURED_REPLY");
            int error = 0, got = 0;
            while (true) {
                assertEquals(Nbd.STRUCTURED_REPLY_MAGIC, magic, "reply magic");
                int flags = in.readUnsignedShort(), type = in.readUnsignedShort();
                assertEquals(cookie, in.readLong(), "reply cookie");
                int len = in.readInt();
                if (type == Nbd.REPLY_TYPE_OFFSET_DATA) {
                    assertNotNull(data, "data for a request that should have failed");
                    long at = in.readLong() - readOffset;
                    assertTrue(len >= 8 && at >= 0 && at + len - 8 <= data.length, "chunk of " + len + " at " + at);
                    in.readFully(data, (int) at, len - 8);
                    got += len - 8;
                } else if (type == Nbd.REPLY_TYPE_ERROR) {
                    error = in.readInt();
                    byte[] msg = new byte[in.readUnsignedShort()];
                    in.readFully(msg);
                    assertEquals(len, 6 + msg.length, "error chunk length");
                } else {
                    assertEquals(Nbd.REPLY_TYPE_NONE, type, "chunk type");
                    assertEquals(0, len);
                }
                if ((flags & Nbd.REPLY_FLAG_DONE) != 0) break;
                magic = in.readInt();
            }
            if (error == 0 && read) assertEquals(data.length, got, "bytes read");
            return error;
        }

        /** True when the server closes within {@code millis} having sent nothing more. */
        boolean closedWithin(long millis) throws IOException {
            s.setSoTimeout((int) millis);
            try {
                int b = in.read();
                assertEquals(-1, b, "bytes after the last expected reply");
                return true;
            } catch (SocketTimeoutException e) {
                return false;
            } catch (IOException reset) {
                return true;
            } finally {
                if (!s.isClosed()) s.setSoTimeout(5000);
            }
        }

        @Override
        public void close() throws IOException {
            s.close();
        }
    }

    /** A client that reads and writes correctly: the server still serves after whatever came before. */
    void cleanClientWorks(byte[] model) throws IOException {
        try (Raw c = new Raw(null).ready(false)) {
            byte[] data = new byte[4096];
            new Random(7).nextBytes(data);
            long off = SIZE - 8192;
            c.request(Nbd.REQUEST_MAGIC, Nbd.CMD_FLAG_FUA, Nbd.CMD_WRITE, 1, off, data.length, data);
            assertEquals(0, c.reply(1, false, null));
            byte[] back = new byte[data.length];
            c.request(Nbd.REQUEST_MAGIC, 0, Nbd.CMD_READ, 2, off, back.length, null);
            assertEquals(0, c.reply(2, true, back));
            assertArrayEquals(data, back);
            if (model != null) System.arraycopy(data, 0, model, (int) off, data.length);
        }
    }

    void awaitConnections(int n) throws InterruptedException {
        for (int i = 0; i < 250 && server.connectionCount() != n; i++) Thread.sleep(20);
        assertEquals(n, server.connectionCount(), "connections");
    }

    List<String> messages(String containing) {
        return records.stream().map(LogRecord::getMessage).filter(m -> m.contains(containing)).toList();
    }

    // ---- the handshake --------------------------------------------------------------------------

    @Test
    @Timeout(30)
    void aTricklingHandshakeIsClosedByTheTotalDeadline() throws Exception {
        start(16, 1500, 10_000);
        try (Raw c = new Raw(null)) {
            long t0 = System.nanoTime();
            // flags, then an NBD_OPT_GO with 64 bytes of data, one byte every 200 ms: every single
            // receive sees progress long before any idle timeout, and the whole would take 17 s
            ByteBuffer b = ByteBuffer.allocate(4 + 16 + 64).putInt(Nbd.FLAG_FIXED_NEWSTYLE).putLong(Nbd.IHAVEOPT)
                    .putInt(Nbd.OPT_GO).putInt(64);
            Thread trickle = Thread.ofVirtual().start(() -> {
                try {
                    for (byte x : b.array()) {
                        c.write(new byte[] {x});
                        Thread.sleep(200);
                    }
                } catch (IOException | InterruptedException closed) {
                    // the server closed: what should happen
                }
            });
            boolean closed = c.closedWithin(8000);
            long ms = (System.nanoTime() - t0) / 1_000_000;
            trickle.interrupt();
            assertTrue(closed, "a client trickling one byte every 200 ms kept its handshake for 8 s past a 1.5 s deadline");
            assertTrue(ms < 4000, "closed after " + ms + " ms, not at the 1.5 s deadline");
        }
        for (int i = 0; i < 100 && messages("did not finish the handshake").isEmpty(); i++) Thread.sleep(20);
        List<String> lines = messages("did not finish the handshake");
        assertEquals(1, lines.size(), records.stream().map(LogRecord::getMessage).toList().toString());
        assertTrue(lines.getFirst().contains("127.0.0.1:") && lines.getFirst().contains("1.5 s"), lines.getFirst());
    }

    @Test
    @Timeout(30)
    void aFullServerEvictsTheLongestHandshakeForANewClient() throws Exception {
        start(4, 30_000, 10_000);
        List<Raw> stalled = new ArrayList<>();
        try {
            for (int i = 0; i < 4; i++) {
                stalled.add(new Raw(null)); // hello read, then nothing
                awaitConnections(i + 1);
            }
            cleanClientWorks(null); // still served while four stalled handshakes hold every slot
            assertTrue(stalled.getFirst().closedWithin(2000), "the longest handshake made room");
            for (Raw s : stalled.subList(1, 4)) assertFalse(s.closedWithin(100), "only one handshake was evicted");
        } finally {
            for (Raw s : stalled) s.close();
        }
    }

    @Test
    @Timeout(30)
    void establishedConnectionsAreNeverEvictedAndOneAddressCannotPushOutOthers() throws Exception {
        start(5, 30_000, 10_000);
        List<Raw> open = new ArrayList<>();
        try {
            Raw e1 = new Raw(null).ready(false), e2 = new Raw(null).ready(true);
            open.addAll(List.of(e1, e2));
            Raw other = new Raw("127.0.0.3"); // the oldest handshake
            open.add(other);
            awaitConnections(3);
            Raw a1 = new Raw("127.0.0.2"), a2;
            open.add(a1);
            awaitConnections(4);
            open.add(a2 = new Raw("127.0.0.2"));
            awaitConnections(5);
            // full: 127.0.0.2 holds the most handshakes, so its new connections displace its own
            Raw a3 = new Raw("127.0.0.2");
            open.add(a3);
            assertTrue(a1.closedWithin(2000), "127.0.0.2's oldest handshake made room");
            Raw a4 = new Raw("127.0.0.2");
            open.add(a4);
            assertTrue(a2.closedWithin(2000), "127.0.0.2's next oldest handshake made room");
            assertFalse(other.closedWithin(100), "another address's handshake was evicted although it holds only one");
            // every slot established: a newcomer is refused, the established connections go on
            other.ready(false);
            a3.close();
            a4.close();
            awaitConnections(3);
            open.add(new Raw(null).ready(false));
            open.add(new Raw(null).ready(false));
            awaitConnections(5);
            try (Raw refused = new Raw(null)) {
                assertTrue(refused.closedWithin(2000), "a sixth client is refused when all five are established");
            } catch (EOFException | java.net.SocketException refusedBeforeHello) {
                // closed before the greeting: refused as well
            }
            for (Raw e : List.of(e1, e2, other)) {
                e.request(Nbd.REQUEST_MAGIC, 0, Nbd.CMD_FLUSH, 9, 0, 0, null);
                assertEquals(0, e.reply(9, false, null), "an established connection was disturbed");
            }
        } finally {
            for (Raw r : open) r.close();
        }
    }

    @Test
    @Timeout(60)
    void optionsPerHandshakeAreCapped() throws Exception {
        start(16, 30_000, 10_000);
        try (Raw c = new Raw(null).flags()) {
            for (int sent = 0; sent < Handshake.MAX_OPTIONS; sent += 64) {
                int batch = Math.min(64, Handshake.MAX_OPTIONS - sent);
                ByteBuffer b = ByteBuffer.allocate(16 * batch);
                for (int i = 0; i < batch; i++) b.putLong(Nbd.IHAVEOPT).putInt(Nbd.OPT_LIST).putInt(0);
                c.write(b.array());
                for (int i = 0; i < batch; i++) {
                    assertEquals(Nbd.REP_SERVER, c.optionReply(Nbd.OPT_LIST, null));
                    assertEquals(Nbd.REP_ACK, c.optionReply(Nbd.OPT_LIST, null));
                }
            }
            c.option(Nbd.OPT_LIST, new byte[0]);
            ByteArrayOutputStream why = new ByteArrayOutputStream();
            assertEquals(Nbd.REP_ERR_POLICY, c.optionReply(Nbd.OPT_LIST, why), "one option past the limit is refused");
            assertTrue(why.toString(StandardCharsets.UTF_8).contains("too many options"), why.toString(StandardCharsets.UTF_8));
            assertTrue(c.closedWithin(2000), "and the handshake ends");
        }
        cleanClientWorks(null);
    }

    // ---- the log --------------------------------------------------------------------------------

    private static final Pattern SUPPRESSED = Pattern.compile("; (\\d+) more refused connections? not logged");

    @Test
    @Timeout(60)
    void refusedConnectionsDoNotFloodTheLog() throws Exception {
        long window = 1000;
        start(2, 30_000, window);
        try (Raw a = new Raw(null).ready(false); Raw b = new Raw(null).ready(false)) {
            awaitConnections(2);
            int refused = 200;
            long t0 = System.nanoTime();
            for (int i = 0; i < refused; i++) {
                try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
                    s.setSoTimeout(5000);
                    assertEquals(-1, readQuietly(s.getInputStream()), "refused without a greeting");
                }
            }
            long burstMs = (System.nanoTime() - t0) / 1_000_000;
            Thread.sleep(window + 100); // a new window: the next refusal reports the rest
            try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
                s.setSoTimeout(5000);
                assertEquals(-1, readQuietly(s.getInputStream()));
            }
            for (int i = 0; i < 100 && messages("refus").size() < 2; i++) Thread.sleep(20);
            List<String> lines = messages("refus");
            long windows = burstMs / window + 2;
            assertTrue(lines.size() <= 5 * windows, lines.size() + " lines for " + (refused + 1) + " refusals: " + lines);
            long accounted = 0;
            for (String l : lines) {
                Matcher m = SUPPRESSED.matcher(l);
                accounted += 1 + (m.find() ? Long.parseLong(m.group(1)) : 0);
            }
            assertEquals(refused + 1, accounted, "every refusal is logged or counted: " + lines);
            for (Raw e : List.of(a, b)) {
                e.request(Nbd.REQUEST_MAGIC, 0, Nbd.CMD_FLUSH, 1, 0, 0, null);
                assertEquals(0, e.reply(1, false, null));
            }
        }
    }

    private static int readQuietly(InputStream in) throws IOException {
        try {
            return in.read();
        } catch (java.net.SocketException reset) {
            return -1;
        }
    }

    // ---- seeded fuzz ----------------------------------------------------------------------------

    @Test
    @Timeout(180)
    void fuzzHandshake() throws Exception {
        start(64, 2000, 60_000);
        Random seeds = new Random(SEED);
        int cases = 250;
        for (int i = 0; i < cases; i++) {
            long seed = seeds.nextLong();
            try {
                handshakeCase(new Random(seed));
                if (i % 50 == 49) cleanClientWorks(null);
            } catch (Throwable t) {
                throw new AssertionError("handshake fuzz case " + i + " failed; replay with -Dnbd.fuzz.seed=" + SEED
                        + " (case seed " + seed + ")", t);
            }
        }
        cleanClientWorks(null);
        assertQuietLog(cases);
    }

    /** Random options (mostly well-formed, some broken) after the greeting; then the server must close. */
    void handshakeCase(Random r) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        Set<Integer> options = new HashSet<>();
        boolean exportName = false;
        int flags = r.nextInt(12) == 0 ? r.nextInt() : r.nextInt(4);
        out.writeBytes(ByteBuffer.allocate(4).putInt(flags).array());
        int n = r.nextInt(8);
        for (int k = 0; k < n; k++) {
            int opt = r.nextInt(10) == 0 ? r.nextInt() : r.nextInt(13);
            byte[] data = optionData(r, opt);
            long declared = data.length;
            switch (r.nextInt(20)) {
                case 0 -> declared = data.length + 1 + r.nextInt(8);
                case 1 -> declared = Math.max(0, data.length - 1 - r.nextInt(4));
                case 2 -> declared = Handshake.MAX_OPTION_LENGTH + 1;
                case 3 -> declared = 0xfffffff0L;
                default -> { }
            }
            long magic = r.nextInt(25) == 0 ? r.nextLong() : Nbd.IHAVEOPT;
            out.writeBytes(ByteBuffer.allocate(16).putLong(magic).putInt(opt).putInt((int) declared).array());
            out.writeBytes(data);
            options.add(opt);
            if (opt == Nbd.OPT_EXPORT_NAME) {
                exportName = true;
                break; // the transmission phase follows (or the server closes)
            }
        }
        byte[] bytes = out.toByteArray();
        if (r.nextInt(6) == 0) bytes = Arrays.copyOf(bytes, r.nextInt(bytes.length + 1)); // cut short
        if (!exportName && r.nextInt(6) == 0) { // trailing garbage (never a request magic by chance: 4 random bytes)
            byte[] junk = new byte[1 + r.nextInt(40)];
            r.nextBytes(junk);
            bytes = concat(bytes, junk);
        }
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        boolean reset = false;
        try (Raw c = new Raw(null)) {
            try {
                c.write(bytes);
                c.s.shutdownOutput();
            } catch (IOException closedEarly) {
                // the server may close on the first bad byte
            }
            c.s.setSoTimeout(5000);
            byte[] buf = new byte[8192];
            try {
                for (int k; (k = c.in.read(buf)) >= 0; ) got.write(buf, 0, k);
            } catch (SocketTimeoutException e) {
                fail("the server neither finished nor closed the handshake within 5 s");
            } catch (IOException e) {
                reset = true; // closed with our bytes unread: what arrived is checked
            }
        }
        checkOptionReplies(got.toByteArray(), options, exportName, reset);
    }

    /** Option data: well-formed for NBD_OPT_GO/INFO/EXPORT_NAME most of the time, random otherwise. */
    static byte[] optionData(Random r, int opt) {
        if ((opt == Nbd.OPT_GO || opt == Nbd.OPT_INFO) && r.nextInt(3) != 0) {
            String[] names = {"m0", "", "nope", "m0\n\u0007x", "\u00e9\u0000"};
            byte[] name = names[r.nextInt(names.length)].getBytes(StandardCharsets.UTF_8);
            int infos = r.nextInt(4);
            ByteBuffer b = ByteBuffer.allocate(6 + name.length + 2 * infos);
            b.putInt(r.nextInt(10) == 0 ? r.nextInt() : name.length).put(name).putShort((short) infos);
            for (int i = 0; i < infos; i++) b.putShort((short) r.nextInt(6));
            return b.array();
        }
        if (opt == Nbd.OPT_EXPORT_NAME && r.nextBoolean()) return (r.nextBoolean() ? "m0" : "zz").getBytes(StandardCharsets.UTF_8);
        byte[] d = new byte[r.nextInt(4) == 0 ? r.nextInt(300) : 0];
        r.nextBytes(d);
        return d;
    }

    /** The server's answer is a sequence of well-formed option replies, and an export reply at most. */
    static void checkOptionReplies(byte[] got, Set<Integer> options, boolean exportName, boolean reset) {
        ByteBuffer b = ByteBuffer.wrap(got);
        while (b.hasRemaining()) {
            if (b.remaining() >= 8 && b.getLong(b.position()) == Nbd.OPT_REPLY_MAGIC) {
                if (b.remaining() < 20) {
                    assertTrue(reset, "a reply cut short");
                    return;
                }
                b.getLong();
                int opt = b.getInt(), type = b.getInt(), len = b.getInt();
                assertTrue(options.contains(opt), "a reply to option " + opt + ", which was not sent");
                assertTrue(type == Nbd.REP_ACK || type == Nbd.REP_SERVER || type == Nbd.REP_INFO
                        || (type < 0 && (type & 0x7fffffff) >= 1 && (type & 0x7fffffff) <= 9), "reply type " + type);
                assertTrue(len >= 0 && len <= 64 * 1024, "reply length " + len);
                if (b.remaining() < len) {
                    assertTrue(reset, "a reply cut short");
                    return;
                }
                b.position(b.position() + len);
                continue;
            }
            assertTrue(exportName && (b.remaining() == 10 || b.remaining() == 134),
                    b.remaining() + " bytes that are no option reply at offset " + b.position());
            return;
        }
    }

    @Test
    @Timeout(180)
    void fuzzTransmission() throws Exception {
        start(64, 30_000, 60_000);
        byte[] model = new byte[(int) SIZE];
        Random seeds = new Random(SEED ^ 0x5452414eL);
        int cases = 400;
        Raw c = null;
        try {
            for (int i = 0; i < cases; i++) {
                long seed = seeds.nextLong();
                Random r = new Random(seed);
                try {
                    if (c == null) c = new Raw(null).ready(r.nextBoolean());
                    if (!requestCase(c, r, model)) {
                        c.close();
                        c = null;
                    }
                } catch (Throwable t) {
                    throw new AssertionError("transmission fuzz case " + i + " failed; replay with -Dnbd.fuzz.seed="
                            + SEED + " (case seed " + seed + ")", t);
                }
            }
        } finally {
            if (c != null) c.close();
        }
        cleanClientWorks(model);
        // nothing outside what was written changed: the whole export against the model
        try (Raw v = new Raw(null).ready(false)) {
            byte[] chunk = new byte[MAX_IO];
            for (long off = 0; off < SIZE; off += MAX_IO) {
                v.request(Nbd.REQUEST_MAGIC, 0, Nbd.CMD_READ, off, off, MAX_IO, null);
                assertEquals(0, v.reply(off, true, chunk));
                assertArrayEquals(Arrays.copyOfRange(model, (int) off, (int) off + MAX_IO), chunk, "contents at " + off);
            }
        }
        awaitConnections(0);
        assertQuietLog(cases);
    }

    private static final int[] ERRORS = {Nbd.EPERM, Nbd.EINVAL, Nbd.ENOSPC, Nbd.EOVERFLOW, Nbd.ENOTSUP};

    /**
     * One random request and its reply checked against the model; false when the connection ended
     * (as it must after a bad magic, a disconnect, an impossible WRITE, or a request cut short).
     */
    boolean requestCase(Raw c, Random r, byte[] model) throws IOException {
        int magic = r.nextInt(40) == 0 ? Nbd.REQUEST_MAGIC ^ (1 << r.nextInt(32)) : Nbd.REQUEST_MAGIC;
        int[] types = {Nbd.CMD_READ, Nbd.CMD_READ, Nbd.CMD_READ, Nbd.CMD_WRITE, Nbd.CMD_WRITE, Nbd.CMD_WRITE,
                Nbd.CMD_FLUSH, Nbd.CMD_TRIM, Nbd.CMD_WRITE_ZEROES, Nbd.CMD_CACHE, Nbd.CMD_BLOCK_STATUS};
        int type = r.nextInt(60) == 0 ? Nbd.CMD_DISC : r.nextInt(20) == 0 ? r.nextInt(1 << 16) : types[r.nextInt(types.length)];
        int flags = switch (r.nextInt(10)) {
            case 0 -> r.nextInt(1 << 16);
            case 1 -> 1 << r.nextInt(5);
            case 2 -> Nbd.CMD_FLAG_FUA;
            default -> 0;
        };
        long length = switch (r.nextInt(20)) {
            case 0 -> 0;
            case 1 -> 1 + r.nextInt(BLOCK * 4); // mostly unaligned
            case 2 -> MAX_IO;
            case 3 -> MAX_IO + BLOCK;
            case 4 -> (64L << 20) + 1; // a WRITE this long closes the connection
            case 5 -> 0xffffffffL;
            default -> (long) BLOCK * (1 + r.nextInt(MAX_IO / BLOCK));
        };
        long offset = switch (r.nextInt(16)) {
            case 0 -> r.nextLong(); // negative half the time
            case 1 -> Long.MAX_VALUE & -BLOCK; // offset + length overflows
            case 2 -> SIZE - (long) BLOCK * r.nextInt(4);
            case 3 -> SIZE + (long) BLOCK * r.nextInt(4);
            case 4 -> r.nextInt((int) SIZE); // mostly unaligned
            case 5 -> -BLOCK;
            default -> (long) BLOCK * r.nextInt((int) (SIZE / BLOCK));
        };
        long cookie = r.nextLong();
        boolean write = type == Nbd.CMD_WRITE;
        byte[] payload = null;
        if (write && length <= (4L << 20)) {
            payload = new byte[(int) length];
            r.nextBytes(payload);
        }
        if (r.nextInt(40) == 0) { // cut short, then gone: nothing of it may reach the export
            byte[] whole = ByteBuffer.allocate(28 + (payload == null ? 0 : payload.length)).putInt(magic)
                    .putShort((short) flags).putShort((short) type).putLong(cookie).putLong(offset).putInt((int) length)
                    .put(payload == null ? new byte[0] : payload).array();
            c.write(Arrays.copyOf(whole, r.nextInt(whole.length)));
            return false;
        }
        c.request(magic, flags, type, cookie, offset, length, payload);
        if (magic != Nbd.REQUEST_MAGIC || type == Nbd.CMD_DISC || (write && payload == null)) {
            assertTrue(c.closedWithin(5000), "the connection stays open after a request that must close it");
            return false;
        }
        boolean known = type == Nbd.CMD_READ || write || type == Nbd.CMD_FLUSH || type == Nbd.CMD_TRIM
                || type == Nbd.CMD_WRITE_ZEROES;
        int allowed = switch (type) {
            case Nbd.CMD_READ -> Nbd.CMD_FLAG_DF;
            case Nbd.CMD_WRITE, Nbd.CMD_TRIM -> Nbd.CMD_FLAG_FUA;
            case Nbd.CMD_WRITE_ZEROES -> Nbd.CMD_FLAG_FUA | Nbd.CMD_FLAG_NO_HOLE;
            default -> 0;
        };
        boolean inRange = offset >= 0 && length <= SIZE && offset <= SIZE - length;
        boolean aligned = ((offset | length) & (BLOCK - 1)) == 0;
        boolean valid = known && (flags & ~allowed) == 0 && (type == Nbd.CMD_FLUSH || inRange && aligned)
                && (!(type == Nbd.CMD_READ || write) || length <= MAX_IO);
        // the protocol leaves these to the server: either answer is fine, but nothing may change
        boolean either = (type == Nbd.CMD_FLUSH && (offset != 0 || length != 0)) || (valid && length == 0);
        boolean read = type == Nbd.CMD_READ;
        byte[] data = read && valid ? new byte[(int) length] : null;
        c.readOffset = offset;
        int error = c.reply(cookie, read && valid, data);
        if (error != 0) {
            assertFalse(valid && !either, "a valid request failed with error " + error);
            assertTrue(Arrays.stream(ERRORS).anyMatch(e -> e == error), "error " + error + " (EIO means a target failed)");
            return true;
        }
        assertTrue(valid || either, "an invalid request succeeded: type " + type + " flags " + flags + " offset "
                + offset + " length " + length);
        if (length == 0) return true;
        int o = (int) offset, n = (int) length;
        switch (type) {
            case Nbd.CMD_READ -> assertArrayEquals(Arrays.copyOfRange(model, o, o + n), data, "READ at " + o);
            case Nbd.CMD_WRITE -> System.arraycopy(payload, 0, model, o, n);
            case Nbd.CMD_TRIM, Nbd.CMD_WRITE_ZEROES -> Arrays.fill(model, o, o + n, (byte) 0);
            default -> { }
        }
        return true;
    }

    /** No stack traces, and the log stays small however many connections misbehaved. */
    void assertQuietLog(int cases) {
        for (LogRecord r : records) {
            assertNull(r.getThrown(), "a stack trace in the log: " + r.getMessage());
        }
        assertTrue(records.size() <= 30, records.size() + " log lines for " + cases + " cases: "
                + records.stream().map(LogRecord::getMessage).limit(40).toList());
    }

    static byte[] concat(byte[] a, byte[] b) {
        byte[] c = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }
}
