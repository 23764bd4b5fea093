package dev.ublkgateway.core.frontend.nbd;

import dev.ublkgateway.core.log.LogText;
import dev.ublkgateway.core.sys.NativeException;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.function.BooleanSupplier;
import java.util.function.Function;

/**
 * The fixed newstyle handshake, on the connection's thread with blocking socket calls: the server
 * greeting, then options until the client picks an export (NBD_OPT_GO or NBD_OPT_EXPORT_NAME) or leaves.
 * What a client can make it do is bounded: the whole runs under one deadline ({@link DeadlineSocket}),
 * its buffers are allocated once, and a handshake takes at most {@link #MAX_OPTIONS} options.
 */
final class Handshake {
    static final ValueLayout.OfShort BE_SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    static final ValueLayout.OfInt BE_INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    static final ValueLayout.OfLong BE_LONG = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    /** Options longer than this are refused (names are at most 4096 bytes by the protocol). */
    static final int MAX_OPTION_LENGTH = 16 * 1024;
    /** Options one handshake may send; clients send a few, a listing of every export one or two per export. */
    static final int MAX_OPTIONS = 1024;
    /** The longest export name, by the protocol. */
    static final int MAX_NAME_BYTES = 4096;
    private static final int REPLY_HEADER = 20;
    /** Room for any reply payload: a name with its length or type, or a message. */
    private static final int MAX_REPLY_PAYLOAD = MAX_NAME_BYTES + 64;

    /**
     * What the client chose; {@code allocation}: base:allocation was selected for that export, so
     * BLOCK_STATUS may be asked.
     */
    record Result(Export export, boolean structured, boolean allocation) {}

    /** Starts TLS on the client's socket (after the STARTTLS reply); the handshake goes on over what it returns. */
    interface StartTls {
        DeadlineSocket start(DeadlineSocket plain) throws IOException;
    }

    private DeadlineSocket io;
    private final NbdTls.Mode tlsMode;
    private final StartTls startTls;
    /** TLS was started: the options since went through it. */
    private boolean tls;
    private final Function<String, Export> exports;
    private final Iterable<Export> all;
    private final BooleanSupplier establish;
    /** Allocated once: however many options come, the handshake's memory stays the same. */
    private final MemorySegment head, data, out, payload;
    private boolean noZeroes, structured;
    /** The export the last NBD_OPT_SET_META_CONTEXT selected base:allocation for, or null. */
    private Export allocationFor;

    /**
     * {@code establish} is asked just before the reply that ends the handshake, so that a client holding
     * that reply is never evicted; false when the connection was evicted meanwhile (then it closes).
     */
    Handshake(DeadlineSocket io, Arena arena, Function<String, Export> exports, Iterable<Export> all,
              BooleanSupplier establish) {
        this(io, arena, exports, all, establish, NbdTls.Mode.OFF, null);
    }

    Handshake(DeadlineSocket io, Arena arena, Function<String, Export> exports, Iterable<Export> all,
              BooleanSupplier establish, NbdTls.Mode tlsMode, StartTls startTls) {
        this.io = io;
        this.tlsMode = tlsMode;
        this.startTls = startTls;
        this.exports = exports;
        this.all = all;
        this.establish = establish;
        head = arena.allocate(16);
        data = arena.allocate(MAX_OPTION_LENGTH);
        out = arena.allocate(REPLY_HEADER + MAX_REPLY_PAYLOAD);
        payload = out.asSlice(REPLY_HEADER);
    }

    /** Runs the handshake; null when the client aborted or broke the protocol (then just close). */
    Result run() throws IOException {
        out.set(BE_LONG, 0, Nbd.NBDMAGIC);
        out.set(BE_LONG, 8, Nbd.IHAVEOPT);
        out.set(BE_SHORT, 16, (short) (Nbd.FLAG_FIXED_NEWSTYLE | Nbd.FLAG_NO_ZEROES));
        io.writeFully(out.asSlice(0, 18));
        if (!io.readFully(head.asSlice(0, 4))) return null;
        int clientFlags = head.get(BE_INT, 0);
        if ((clientFlags & ~(Nbd.FLAG_FIXED_NEWSTYLE | Nbd.FLAG_NO_ZEROES)) != 0) return null; // unknown flags: must close
        noZeroes = (clientFlags & Nbd.FLAG_NO_ZEROES) != 0;
        for (int count = 1; ; count++) {
            if (!io.readFully(head)) return null;
            if (head.get(BE_LONG, 0) != Nbd.IHAVEOPT) return null;
            int option = head.get(BE_INT, 8);
            long length = Integer.toUnsignedLong(head.get(BE_INT, 12));
            if (count > MAX_OPTIONS) { // a client going round in circles: answer once, then close
                if (option == Nbd.OPT_EXPORT_NAME || length > MAX_OPTION_LENGTH) return null;
                // its data is read first: closing with unread data would reset the connection and lose the reply
                if (length > 0 && !io.readFully(data.asSlice(0, length))) return null;
                reply(option, Nbd.REP_ERR_POLICY, "too many options in one handshake (at most " + MAX_OPTIONS
                        + "); connect again and choose an export sooner");
                return null;
            }
            if (length > MAX_OPTION_LENGTH) {
                if (option == Nbd.OPT_EXPORT_NAME) return null;
                io.skip(length, data);
                reply(option, Nbd.REP_ERR_TOO_BIG, "option too long");
                continue;
            }
            MemorySegment d = data.asSlice(0, length);
            if (length > 0 && !io.readFully(d)) return null;
            if (tlsMode == NbdTls.Mode.REQUIRE && !tls && option != Nbd.OPT_STARTTLS && option != Nbd.OPT_ABORT) {
                if (option == Nbd.OPT_EXPORT_NAME) return null; // it has no error reply: close
                reply(option, Nbd.REP_ERR_TLS_REQD, "this server requires TLS: start it with NBD_OPT_STARTTLS "
                        + "(e.g. an nbds:// URI with tls-certificates)");
                continue;
            }
            switch (option) {
                case Nbd.OPT_EXPORT_NAME -> {
                    Export e = exports.apply(string(d, 0, (int) length));
                    if (e == null) return null; // the protocol has no error reply here: close
                    if (!establish.getAsBoolean()) return null;
                    out.asSlice(0, 134).fill((byte) 0);
                    out.set(BE_LONG, 0, e.sizeBytes());
                    out.set(BE_SHORT, 8, (short) e.transmissionFlags());
                    io.writeFully(out.asSlice(0, noZeroes ? 10 : 134));
                    return new Result(e, false, false);
                }
                case Nbd.OPT_ABORT -> {
                    try {
                        reply(option, Nbd.REP_ACK, 0);
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
                        int n = putString(4, e.name());
                        payload.set(BE_INT, 0, n);
                        reply(option, Nbd.REP_SERVER, 4 + n);
                    }
                    reply(option, Nbd.REP_ACK, 0);
                }
                case Nbd.OPT_STRUCTURED_REPLY -> {
                    if (length != 0) {
                        reply(option, Nbd.REP_ERR_INVALID, "NBD_OPT_STRUCTURED_REPLY takes no data");
                    } else {
                        structured = true;
                        reply(option, Nbd.REP_ACK, 0);
                    }
                }
                case Nbd.OPT_INFO, Nbd.OPT_GO -> {
                    Export e = info(option, d, length);
                    if (e == null) continue;
                    if (option == Nbd.OPT_GO && !establish.getAsBoolean()) return null;
                    reply(option, Nbd.REP_ACK, 0);
                    // a context selected for another export does not carry over (the protocol says so)
                    if (option == Nbd.OPT_GO) return new Result(e, structured, structured && allocationFor == e);
                }
                case Nbd.OPT_LIST_META_CONTEXT, Nbd.OPT_SET_META_CONTEXT -> metaContext(option, d, length);
                case Nbd.OPT_STARTTLS -> startTls(option, length);
                default -> reply(option, Nbd.REP_ERR_UNSUP, "option " + option + " is not supported");
            }
        }
    }

    /**
     * NBD_OPT_STARTTLS: the ACK goes out in plain, then TLS starts and the handshake goes on through it,
     * forgetting what was negotiated before (the protocol asks so: a man in the middle may have sent it).
     */
    private void startTls(int option, long length) throws IOException {
        if (tlsMode == NbdTls.Mode.OFF) {
            reply(option, Nbd.REP_ERR_POLICY, "TLS is off on this server; connect without TLS, or set tls: on "
                    + "with tls-certificates in the device's configuration");
        } else if (tls) {
            reply(option, Nbd.REP_ERR_INVALID, "TLS is already on");
        } else if (length != 0) {
            reply(option, Nbd.REP_ERR_INVALID, "NBD_OPT_STARTTLS takes no data");
        } else {
            reply(option, Nbd.REP_ACK, 0);
            io = startTls.start(io);
            tls = true;
            structured = false;
            allocationFor = null;
        }
    }

    /** NBD_OPT_INFO / NBD_OPT_GO: the export's details, all but the final ACK; null after an error reply. */
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
            reply(option, Nbd.REP_ERR_UNKNOWN, "no export named \"" + LogText.oneLine(name, 256) + "\"");
            return null;
        }
        boolean wantName = false, wantDescription = false;
        for (int i = 0; i < nInfo; i++) {
            int t = Short.toUnsignedInt(data.get(BE_SHORT, 6 + nameLen + 2L * i));
            if (t == Nbd.INFO_NAME) wantName = true;
            if (t == Nbd.INFO_DESCRIPTION) wantDescription = true;
        }
        payload.set(BE_SHORT, 0, (short) Nbd.INFO_EXPORT);
        payload.set(BE_LONG, 2, e.sizeBytes());
        payload.set(BE_SHORT, 10, (short) e.transmissionFlags());
        reply(option, Nbd.REP_INFO, 12);
        // Sent whether asked or not: clients that do not honour the constraints get EINVAL for unaligned I/O.
        payload.set(BE_SHORT, 0, (short) Nbd.INFO_BLOCK_SIZE);
        payload.set(BE_INT, 2, e.blockSize());
        payload.set(BE_INT, 6, e.preferredBlockSize());
        payload.set(BE_INT, 10, e.maxIoBytes());
        reply(option, Nbd.REP_INFO, 14);
        if (wantName) infoString(option, Nbd.INFO_NAME, e.name());
        if (wantDescription) infoString(option, Nbd.INFO_DESCRIPTION, "ublk-gateway device " + e.name());
        return e;
    }

    /**
     * NBD_OPT_LIST_META_CONTEXT / NBD_OPT_SET_META_CONTEXT: export name, then queries. The only context
     * is base:allocation, matched by its name or by its namespace "base:"; queries in other namespaces
     * are ignored, as the protocol asks. An empty LIST lists it; an empty SET selects nothing.
     */
    private void metaContext(int option, MemorySegment data, long length) throws NativeException {
        boolean set = option == Nbd.OPT_SET_META_CONTEXT;
        if (set) allocationFor = null; // a new selection replaces the old one, even when it fails
        if (set && !structured) {
            reply(option, Nbd.REP_ERR_INVALID, "NBD_OPT_SET_META_CONTEXT needs structured replies first (NBD_OPT_STRUCTURED_REPLY)");
            return;
        }
        if (length < 8) {
            reply(option, Nbd.REP_ERR_INVALID, "option data too short");
            return;
        }
        long nameLen = Integer.toUnsignedLong(data.get(BE_INT, 0));
        if (nameLen > length - 8) {
            reply(option, Nbd.REP_ERR_INVALID, "export name length exceeds the option data");
            return;
        }
        long nQueries = Integer.toUnsignedLong(data.get(BE_INT, 4 + nameLen));
        boolean matched = nQueries == 0 && !set;
        long at = 8 + nameLen;
        for (long i = 0; i < nQueries; i++) {
            if (at + 4 > length) {
                at = -1; // fewer queries than it says
                break;
            }
            long qLen = Integer.toUnsignedLong(data.get(BE_INT, at));
            if (qLen > length - at - 4) {
                at = -1;
                break;
            }
            String q = string(data, at + 4, (int) qLen);
            if (q.equals(Nbd.CONTEXT_ALLOCATION) || q.equals(Nbd.NAMESPACE_BASE)) matched = true;
            at += 4 + qLen;
        }
        if (at != length) {
            reply(option, Nbd.REP_ERR_INVALID, "option length does not match its queries");
            return;
        }
        String name = string(data, 4, (int) nameLen);
        Export e = exports.apply(name);
        if (e == null) {
            reply(option, Nbd.REP_ERR_UNKNOWN, "no export named \"" + LogText.oneLine(name, 256) + "\"");
            return;
        }
        if (matched) {
            payload.set(BE_INT, 0, Nbd.CONTEXT_ALLOCATION_ID);
            reply(option, Nbd.REP_META_CONTEXT, 4 + putString(4, Nbd.CONTEXT_ALLOCATION));
            if (set) allocationFor = e;
        }
        reply(option, Nbd.REP_ACK, 0);
    }

    private void infoString(int option, int type, String s) throws NativeException {
        payload.set(BE_SHORT, 0, (short) type);
        reply(option, Nbd.REP_INFO, 2 + putString(2, s));
    }

    /** Puts {@code s} into the reply payload at {@code at}, cut to fit; returns its length in bytes. */
    private int putString(int at, String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        int n = (int) Math.min(b.length, payload.byteSize() - at);
        MemorySegment.copy(b, 0, payload, ValueLayout.JAVA_BYTE, at, n);
        return n;
    }

    private void reply(int option, int type, String message) throws NativeException {
        reply(option, type, putString(0, message));
    }

    /** Sends a reply whose payload of {@code length} bytes is already in {@link #payload}. */
    private void reply(int option, int type, int length) throws NativeException {
        out.set(BE_LONG, 0, Nbd.OPT_REPLY_MAGIC);
        out.set(BE_INT, 8, option);
        out.set(BE_INT, 12, type);
        out.set(BE_INT, 16, length);
        io.writeFully(out.asSlice(0, REPLY_HEADER + length));
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
