package dev.ublkgateway.core.nbd;

import dev.ublkgateway.core.nativ.NativeException;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.function.Function;

/**
 * The fixed newstyle handshake, on the connection's thread with blocking socket calls: the server
 * greeting, then options until the client picks an export (NBD_OPT_GO or NBD_OPT_EXPORT_NAME) or leaves.
 */
final class Handshake {
    static final ValueLayout.OfShort BE_SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    static final ValueLayout.OfInt BE_INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    static final ValueLayout.OfLong BE_LONG = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    /** Options longer than this are refused (names are at most 4096 bytes by the protocol). */
    static final int MAX_OPTION_LENGTH = 16 * 1024;

    /** What the client chose. */
    record Result(Export export, boolean structured) {}

    private final int fd;
    private final Arena arena;
    private final MemorySegment st;
    private final Function<String, Export> exports;
    private final Iterable<Export> all;
    private boolean noZeroes, structured;

    Handshake(int fd, Arena arena, Function<String, Export> exports, Iterable<Export> all) {
        this.fd = fd;
        this.arena = arena;
        this.st = Sockets.callState(arena);
        this.exports = exports;
        this.all = all;
    }

    /** Runs the handshake; null when the client aborted or broke the protocol (then just close). */
    Result run() throws NativeException {
        MemorySegment hello = arena.allocate(18);
        hello.set(BE_LONG, 0, Nbd.NBDMAGIC);
        hello.set(BE_LONG, 8, Nbd.IHAVEOPT);
        hello.set(BE_SHORT, 16, (short) (Nbd.FLAG_FIXED_NEWSTYLE | Nbd.FLAG_NO_ZEROES));
        Sockets.writeFully(fd, hello, st);
        MemorySegment cf = arena.allocate(4);
        if (!Sockets.readFully(fd, cf, st)) return null;
        int clientFlags = cf.get(BE_INT, 0);
        if ((clientFlags & ~(Nbd.FLAG_FIXED_NEWSTYLE | Nbd.FLAG_NO_ZEROES)) != 0) return null; // unknown flags: must close
        noZeroes = (clientFlags & Nbd.FLAG_NO_ZEROES) != 0;
        MemorySegment head = arena.allocate(16);
        while (true) {
            if (!Sockets.readFully(fd, head, st)) return null;
            if (head.get(BE_LONG, 0) != Nbd.IHAVEOPT) return null;
            int option = head.get(BE_INT, 8);
            long length = Integer.toUnsignedLong(head.get(BE_INT, 12));
            if (length > MAX_OPTION_LENGTH) {
                if (option == Nbd.OPT_EXPORT_NAME) return null;
                skip(length);
                reply(option, Nbd.REP_ERR_TOO_BIG, "option too long");
                continue;
            }
            MemorySegment data = arena.allocate(Math.max(1, length)).asSlice(0, length);
            if (length > 0 && !Sockets.readFully(fd, data, st)) return null;
            switch (option) {
                case Nbd.OPT_EXPORT_NAME -> {
                    Export e = exports.apply(string(data, 0, (int) length));
                    if (e == null) return null; // the protocol has no error reply here: close
                    MemorySegment r = arena.allocate(noZeroes ? 10 : 134);
                    r.set(BE_LONG, 0, e.sizeBytes());
                    r.set(BE_SHORT, 8, (short) e.transmissionFlags());
                    Sockets.writeFully(fd, r, st);
                    return new Result(e, false);
                }
                case Nbd.OPT_ABORT -> {
                    try {
                        reply(option, Nbd.REP_ACK, (MemorySegment) null);
                    } catch (NativeException ignored) {
                        // the client may already be gone
                    }
                    return null;
                }
                case Nbd.OPT_LIST -> {
                    if (length != 0) {
                        reply(option, Nbd.REP_ERR_INVALID, "NBD_OPT_LIST takes no data");
                        continue;
                    }
                    for (Export e : all) {
                        byte[] n = e.name().getBytes(StandardCharsets.UTF_8);
                        MemorySegment p = arena.allocate(4 + n.length);
                        p.set(BE_INT, 0, n.length);
                        MemorySegment.copy(n, 0, p, ValueLayout.JAVA_BYTE, 4, n.length);
                        reply(option, Nbd.REP_SERVER, p);
                    }
                    reply(option, Nbd.REP_ACK, (MemorySegment) null);
                }
                case Nbd.OPT_STRUCTURED_REPLY -> {
                    if (length != 0) {
                        reply(option, Nbd.REP_ERR_INVALID, "NBD_OPT_STRUCTURED_REPLY takes no data");
                    } else {
                        structured = true;
                        reply(option, Nbd.REP_ACK, (MemorySegment) null);
                    }
                }
                case Nbd.OPT_INFO, Nbd.OPT_GO -> {
                    Export e = info(option, data, length);
                    if (e != null && option == Nbd.OPT_GO) return new Result(e, structured);
                }
                case Nbd.OPT_STARTTLS -> reply(option, Nbd.REP_ERR_UNSUP, "TLS is not supported by this server");
                default -> reply(option, Nbd.REP_ERR_UNSUP, "option " + option + " is not supported");
            }
        }
    }

    /** NBD_OPT_INFO / NBD_OPT_GO: the export's details; returns the export when it was acknowledged. */
    private Export info(int option, MemorySegment data, long length) throws NativeException {
        if (length < 6) {
            reply(option, Nbd.REP_ERR_INVALID, "option data too short");
            return null;
        }
        long nameLen = Integer.toUnsignedLong(data.get(BE_INT, 0));
        if (nameLen > length - 6) {
            reply(option, Nbd.REP_ERR_INVALID, "export name length exceeds the option data");
            return null;
        }
        int nInfo = Short.toUnsignedInt(data.get(BE_SHORT, 4 + nameLen));
        if (length != 6 + nameLen + 2L * nInfo) {
            reply(option, Nbd.REP_ERR_INVALID, "option length does not match its information requests");
            return null;
        }
        String name = string(data, 4, (int) nameLen);
        Export e = exports.apply(name);
        if (e == null) {
            reply(option, Nbd.REP_ERR_UNKNOWN, "no export named \"" + name + "\"");
            return null;
        }
        boolean wantName = false, wantDescription = false;
        for (int i = 0; i < nInfo; i++) {
            int t = Short.toUnsignedInt(data.get(BE_SHORT, 6 + nameLen + 2L * i));
            if (t == Nbd.INFO_NAME) wantName = true;
            if (t == Nbd.INFO_DESCRIPTION) wantDescription = true;
        }
        MemorySegment ex = arena.allocate(12);
        ex.set(BE_SHORT, 0, (short) Nbd.INFO_EXPORT);
        ex.set(BE_LONG, 2, e.sizeBytes());
        ex.set(BE_SHORT, 10, (short) e.transmissionFlags());
        reply(option, Nbd.REP_INFO, ex);
        // Sent whether asked or not: clients that do not honour the constraints get EINVAL for unaligned I/O.
        MemorySegment bs = arena.allocate(14);
        bs.set(BE_SHORT, 0, (short) Nbd.INFO_BLOCK_SIZE);
        bs.set(BE_INT, 2, e.blockSize());
        bs.set(BE_INT, 6, e.preferredBlockSize());
        bs.set(BE_INT, 10, e.maxIoBytes());
        reply(option, Nbd.REP_INFO, bs);
        if (wantName) reply(option, Nbd.REP_INFO, infoString(Nbd.INFO_NAME, e.name()));
        if (wantDescription) reply(option, Nbd.REP_INFO, infoString(Nbd.INFO_DESCRIPTION, "ublk-gateway device " + e.name()));
        reply(option, Nbd.REP_ACK, (MemorySegment) null);
        return e;
    }

    private MemorySegment infoString(int type, String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        MemorySegment m = arena.allocate(2 + b.length);
        m.set(BE_SHORT, 0, (short) type);
        MemorySegment.copy(b, 0, m, ValueLayout.JAVA_BYTE, 2, b.length);
        return m;
    }

    private void reply(int option, int type, String message) throws NativeException {
        MemorySegment p = null;
        if (message != null) {
            byte[] b = message.getBytes(StandardCharsets.UTF_8);
            p = arena.allocate(b.length);
            MemorySegment.copy(b, 0, p, ValueLayout.JAVA_BYTE, 0, b.length);
        }
        reply(option, type, p);
    }

    private void reply(int option, int type, MemorySegment payload) throws NativeException {
        long n = payload == null ? 0 : payload.byteSize();
        MemorySegment r = arena.allocate(20 + n);
        r.set(BE_LONG, 0, Nbd.OPT_REPLY_MAGIC);
        r.set(BE_INT, 8, option);
        r.set(BE_INT, 12, type);
        r.set(BE_INT, 16, (int) n);
        if (n > 0) MemorySegment.copy(payload, 0, r, 20, n);
        Sockets.writeFully(fd, r, st);
    }

    private void skip(long n) throws NativeException {
        MemorySegment b = arena.allocate(4096);
        while (n > 0) {
            long k = Math.min(n, 4096);
            if (!Sockets.readFully(fd, b.asSlice(0, k), st)) throw new NativeException("recv", 104);
            n -= k;
        }
    }

    private static String string(MemorySegment s, long off, int len) {
        byte[] b = new byte[len];
        MemorySegment.copy(s, ValueLayout.JAVA_BYTE, off, b, 0, len);
        return new String(b, StandardCharsets.UTF_8);
    }

    static Function<String, Export> lookup(Map<String, Export> byName, Export defaultExport) {
        return n -> n.isEmpty() ? defaultExport : byName.get(n);
    }
}
