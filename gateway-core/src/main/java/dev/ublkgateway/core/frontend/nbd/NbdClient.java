package dev.ublkgateway.core.frontend.nbd;

import dev.ublkgateway.api.BlockImage;

import java.io.EOFException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A small NBD client for importing from and exporting to an NBD export: fixed newstyle handshake,
 * NBD_OPT_GO (NBD_OPT_EXPORT_NAME with servers that lack it), simple replies. Calls from several threads
 * share one connection with up to {@link #DEPTH} requests in flight; one reader thread hands each reply
 * to the call that waits for it. Every failure is an {@link IOException} with one line naming the URI.
 */
public final class NbdClient implements BlockImage {
    /** Requests in flight, and the largest READ/WRITE sent (unless the server asks for less). */
    static final int DEPTH = 16, MAX_IO = 1 << 20;
    private static final byte[] ZEROS = new byte[MAX_IO];

    private final NbdUri uri;
    private final SocketChannel ch;
    private final long size;
    private final int flags, maxIo;
    private final Semaphore slots = new Semaphore(DEPTH);
    private final ConcurrentHashMap<Long, Pending> pending = new ConcurrentHashMap<>();
    private final AtomicLong handles = new AtomicLong();
    private final Object sendLock = new Object();
    private final ByteBuffer header = ByteBuffer.allocate(Nbd.REQUEST_SIZE);
    private final Thread reader;
    /** Why the connection is gone (read by waiting calls), or null while it works. */
    private volatile String broken;
    private volatile boolean closing;

    /** One request waiting for its reply: where a READ's data goes, and the outcome. */
    private static final class Pending {
        final byte[] buf;
        final int off, length;
        int error = -1;
        boolean done;

        Pending(byte[] buf, int off, int length) {
            this.buf = buf;
            this.off = off;
            this.length = length;
        }
    }

    private NbdClient(NbdUri uri, SocketChannel ch, long size, int flags, int maxIo) {
        this.uri = uri;
        this.ch = ch;
        this.size = size;
        this.flags = flags;
        this.maxIo = maxIo;
        this.reader = Thread.ofPlatform().daemon().name("nbd-client-reader").unstarted(this::readReplies);
    }

    /** Connects to {@code uri} and negotiates its export. */
    public static NbdClient connect(NbdUri uri) throws IOException {
        SocketChannel ch;
        try {
            if (uri.address() instanceof UnixDomainSocketAddress a) {
                ch = SocketChannel.open(StandardProtocolFamily.UNIX);
                ch.connect(a);
            } else {
                InetSocketAddress a = (InetSocketAddress) uri.address();
                ch = SocketChannel.open(new InetSocketAddress(a.getHostString(), a.getPort()));
                ch.socket().setTcpNoDelay(true);
            }
        } catch (java.nio.channels.UnresolvedAddressException e) {
            throw new IOException(uri + ": unknown host; check the host name");
        } catch (IOException e) {
            throw new IOException(uri + ": cannot connect (" + (e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage())
                    + "); check that an NBD server listens there");
        }
        try {
            NbdClient c = negotiate(uri, ch);
            c.reader.start();
            return c;
        } catch (IOException | RuntimeException e) {
            ch.close();
            if (e instanceof EOFException) throw new IOException(uri + ": the server closed the connection during the handshake");
            throw e;
        }
    }

    private static NbdClient negotiate(NbdUri uri, SocketChannel ch) throws IOException {
        ByteBuffer b = read(ch, 18);
        if (b.getLong() != Nbd.NBDMAGIC) throw new IOException(uri + ": not an NBD server (wrong greeting)");
        long magic = b.getLong();
        if (magic != Nbd.IHAVEOPT) {
            throw new IOException(uri + ": the server speaks the old NBD handshake, which this client does not; run it in newstyle mode");
        }
        int serverFlags = b.getShort() & 0xffff;
        if ((serverFlags & Nbd.FLAG_FIXED_NEWSTYLE) == 0) {
            throw new IOException(uri + ": the server does not offer the fixed newstyle handshake; use a newer NBD server");
        }
        boolean noZeroes = (serverFlags & Nbd.FLAG_NO_ZEROES) != 0;
        write(ch, ByteBuffer.allocate(4).putInt(Nbd.FLAG_FIXED_NEWSTYLE | (noZeroes ? Nbd.FLAG_NO_ZEROES : 0)).flip());
        byte[] name = uri.export().getBytes(StandardCharsets.UTF_8);
        // NBD_OPT_GO: the export name, and a request for its block sizes
        ByteBuffer opt = ByteBuffer.allocate(16 + 4 + name.length + 2 + 2);
        opt.putLong(Nbd.IHAVEOPT).putInt(Nbd.OPT_GO).putInt(4 + name.length + 4).putInt(name.length).put(name)
                .putShort((short) 1).putShort((short) Nbd.INFO_BLOCK_SIZE).flip();
        write(ch, opt);
        long size = -1;
        int flags = 0, maxIo = MAX_IO;
        while (true) {
            ByteBuffer h = read(ch, 20);
            if (h.getLong() != Nbd.OPT_REPLY_MAGIC) throw new IOException(uri + ": the server sent a malformed option reply");
            h.getInt();
            int type = h.getInt(), len = h.getInt();
            if (len < 0 || len > 1 << 20) throw new IOException(uri + ": the server sent an option reply of " + len + " bytes");
            ByteBuffer d = read(ch, len);
            if (type == Nbd.REP_ACK) break;
            if (type == Nbd.REP_INFO && len >= 2) {
                int info = d.getShort() & 0xffff;
                if (info == Nbd.INFO_EXPORT && len >= 12) {
                    size = d.getLong();
                    flags = d.getShort() & 0xffff;
                } else if (info == Nbd.INFO_BLOCK_SIZE && len >= 14) {
                    d.getInt();
                    d.getInt();
                    int max = d.getInt();
                    if (max > 0) maxIo = Math.min(maxIo, Integer.highestOneBit(max));
                }
                continue;
            }
            if (type == Nbd.REP_ERR_UNSUP) return exportName(uri, ch, name, noZeroes);
            if ((type & Nbd.REP_ERR) != 0) throw new IOException(uri + ": " + optionError(uri, type, d));
        }
        if (size < 0) throw new IOException(uri + ": the server did not say the export's size");
        return new NbdClient(uri, ch, size, flags, maxIo);
    }

    /** Servers without NBD_OPT_GO: NBD_OPT_EXPORT_NAME, which has no error reply (an unknown export closes the connection). */
    private static NbdClient exportName(NbdUri uri, SocketChannel ch, byte[] name, boolean noZeroes) throws IOException {
        ByteBuffer opt = ByteBuffer.allocate(16 + name.length);
        opt.putLong(Nbd.IHAVEOPT).putInt(Nbd.OPT_EXPORT_NAME).putInt(name.length).put(name).flip();
        write(ch, opt);
        ByteBuffer b;
        try {
            b = read(ch, 10 + (noZeroes ? 0 : 124));
        } catch (EOFException e) {
            throw new IOException(uri + ": the server refused export \"" + uri.export() + "\"; check the export name");
        }
        long size = b.getLong();
        int flags = b.getShort() & 0xffff;
        return new NbdClient(uri, ch, size, flags, MAX_IO);
    }

    private static String optionError(NbdUri uri, int type, ByteBuffer d) {
        String msg = StandardCharsets.UTF_8.decode(d).toString().strip();
        String why = msg.isEmpty() ? "" : " (" + msg.lines().findFirst().orElse("") + ")";
        return switch (type) {
            case Nbd.REP_ERR_UNKNOWN -> "the server has no export \"" + uri.export() + "\"" + why + "; list them with nbdinfo --list";
            case Nbd.REP_ERR_TLS_REQD -> "the server requires TLS" + why + ", which this client does not speak; copy the export to a "
                    + "file with nbdcopy (with its TLS options) and use the file, or serve it without TLS";
            case Nbd.REP_ERR_POLICY -> "the server refused the export by policy" + why + "; check its access rules";
            case Nbd.REP_ERR_SHUTDOWN -> "the server is shutting down" + why + "; try again";
            default -> "the server refused the export (option error " + (type & ~Nbd.REP_ERR) + ")" + why;
        };
    }

    private static ByteBuffer read(SocketChannel ch, int n) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(n);
        while (b.hasRemaining()) if (ch.read(b) < 0) throw new EOFException();
        return b.flip();
    }

    private static void write(SocketChannel ch, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) ch.write(b);
    }

    @Override
    public String name() {
        return uri.text();
    }

    @Override
    public long size() {
        return size;
    }

    @Override
    public boolean writable() {
        return (flags & Nbd.TF_READ_ONLY) == 0;
    }

    /** Whether the server takes NBD_CMD_WRITE_ZEROES (else zeros are written as data). */
    public boolean writesZeroes() {
        return (flags & Nbd.TF_SEND_WRITE_ZEROES) != 0;
    }

    @Override
    public void read(long offset, byte[] buf, int length) throws IOException {
        split(Nbd.CMD_READ, offset, buf, length);
    }

    @Override
    public void write(long offset, byte[] buf, int length) throws IOException {
        split(Nbd.CMD_WRITE, offset, buf, length);
    }

    @Override
    public void writeZeroes(long offset, int length) throws IOException {
        if (writesZeroes()) {
            split(Nbd.CMD_WRITE_ZEROES, offset, null, length);
            return;
        }
        Pending[] ps = new Pending[Math.ceilDiv(length, maxIo)];
        for (int k = 0, done = 0; done < length; k++, done += maxIo) {
            int n = Math.min(maxIo, length - done);
            ps[k] = send(Nbd.CMD_WRITE, offset + done, ZEROS, 0, n);
        }
        await(Nbd.CMD_WRITE, offset, ps);
    }

    @Override
    public void flush() throws IOException {
        if ((flags & Nbd.TF_SEND_FLUSH) == 0) return;
        await(Nbd.CMD_FLUSH, 0, new Pending[] {send(Nbd.CMD_FLUSH, 0, null, 0, 0)});
    }

    /** A request of any length as pieces of at most maxIo bytes, all in flight together. */
    private void split(int type, long offset, byte[] buf, int length) throws IOException {
        if (offset < 0 || offset + length > size) {
            throw new IOException(uri + ": " + length + " bytes at offset " + offset + " are past the export's end (" + size + " bytes)");
        }
        Pending[] ps = new Pending[Math.max(1, Math.ceilDiv(length, maxIo))];
        for (int k = 0, done = 0; done < length; k++, done += maxIo) {
            ps[k] = send(type, offset + done, buf, done, Math.min(maxIo, length - done));
        }
        await(type, offset, ps);
    }

    private Pending send(int type, long offset, byte[] buf, int off, int length) throws IOException {
        try {
            slots.acquire();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new java.io.InterruptedIOException("interrupted");
        }
        Pending p = new Pending(type == Nbd.CMD_READ ? buf : null, off, length);
        long handle = handles.incrementAndGet();
        pending.put(handle, p);
        try {
            if (broken != null) throw new IOException(broken);
            synchronized (sendLock) {
                header.clear();
                header.putInt(Nbd.REQUEST_MAGIC).putShort((short) 0).putShort((short) type).putLong(handle).putLong(offset).putInt(length).flip();
                if (type == Nbd.CMD_WRITE) {
                    ByteBuffer[] both = {header, ByteBuffer.wrap(buf, off, length)};
                    while (both[1].hasRemaining()) ch.write(both);
                } else {
                    write(ch, header);
                }
            }
        } catch (IOException e) {
            pending.remove(handle);
            slots.release();
            fail("the connection failed (" + e.getMessage() + ")");
            throw new IOException(broken);
        }
        return p;
    }

    private void await(int type, long offset, Pending[] ps) throws IOException {
        int error = 0;
        for (Pending p : ps) {
            if (p == null) continue;
            synchronized (p) {
                while (!p.done) {
                    try {
                        p.wait();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        throw new java.io.InterruptedIOException("interrupted");
                    }
                }
                if (p.error < 0) throw new IOException(broken);
                if (p.error != 0 && error == 0) error = p.error;
            }
        }
        if (error != 0) {
            String what = switch (type) {
                case Nbd.CMD_READ -> "a read";
                case Nbd.CMD_WRITE -> "a write";
                case Nbd.CMD_WRITE_ZEROES -> "a write of zeros";
                default -> "a flush";
            };
            throw new IOException(uri + ": the server failed " + what + (type == Nbd.CMD_FLUSH ? "" : " at offset " + offset) + ": "
                    + errorName(error) + (error == Nbd.ENOSPC ? "; the export is full or too small" : "; check the server's log"));
        }
    }

    static String errorName(int e) {
        return switch (e) {
            case Nbd.EPERM -> "EPERM (operation not permitted)";
            case Nbd.EIO -> "EIO (input/output error)";
            case Nbd.ENOMEM -> "ENOMEM (out of memory)";
            case Nbd.EINVAL -> "EINVAL (invalid argument)";
            case Nbd.ENOSPC -> "ENOSPC (no space left)";
            case Nbd.EOVERFLOW -> "EOVERFLOW (request too large)";
            case Nbd.ENOTSUP -> "ENOTSUP (not supported)";
            case Nbd.ESHUTDOWN -> "ESHUTDOWN (server shutting down)";
            default -> "error " + e;
        };
    }

    /** The reader thread: each simple reply completes its request; a READ's data goes straight into its buffer. */
    private void readReplies() {
        ByteBuffer h = ByteBuffer.allocate(Nbd.SIMPLE_REPLY_SIZE);
        try {
            while (true) {
                h.clear();
                while (h.hasRemaining()) if (ch.read(h) < 0) throw new EOFException();
                h.flip();
                int magic = h.getInt(), error = h.getInt();
                long handle = h.getLong();
                if (magic != Nbd.SIMPLE_REPLY_MAGIC) throw new IOException("the server sent a reply this client does not read (magic 0x"
                        + Integer.toHexString(magic) + ")");
                Pending p = pending.remove(handle);
                if (p == null) throw new IOException("the server answered a request that was not sent (handle " + handle + ")");
                if (error == 0 && p.buf != null) {
                    ByteBuffer d = ByteBuffer.wrap(p.buf, p.off, p.length);
                    while (d.hasRemaining()) if (ch.read(d) < 0) throw new EOFException();
                }
                synchronized (p) {
                    p.error = error;
                    p.done = true;
                    p.notifyAll();
                }
                slots.release();
            }
        } catch (IOException e) {
            if (!closing) {
                fail(e instanceof EOFException || e instanceof java.nio.channels.AsynchronousCloseException
                        ? "the server closed the connection" : "the connection failed (" + e.getMessage() + ")");
            }
        }
    }

    /** Marks the connection broken and wakes every call that waits. */
    private void fail(String why) {
        if (broken == null) broken = uri + ": " + why + (closing ? "" : "; check the server and try again");
        for (Long k : pending.keySet()) {
            Pending p = pending.remove(k);
            if (p == null) continue;
            synchronized (p) {
                p.error = -1;
                p.done = true;
                p.notifyAll();
            }
            slots.release();
        }
        try {
            ch.close();
        } catch (IOException ignored) {
            // already broken
        }
    }

    /** How long close waits for the replies still due before it drops the connection. */
    static final long CLOSE_WAIT_SECONDS = 30;

    /** Sends NBD_CMD_DISC after the requests in flight and closes the connection. */
    @Override
    public void close() throws IOException {
        if (broken == null) {
            try {
                // every reply is in, or the server stopped answering: then the connection just closes
                boolean idle = slots.tryAcquire(DEPTH, CLOSE_WAIT_SECONDS, java.util.concurrent.TimeUnit.SECONDS);
                closing = true;
                if (idle) {
                    synchronized (sendLock) {
                        header.clear();
                        header.putInt(Nbd.REQUEST_MAGIC).putShort((short) 0).putShort((short) Nbd.CMD_DISC).putLong(0).putLong(0).putInt(0).flip();
                        write(ch, header);
                    }
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (IOException ignored) {
                // closing anyway
            }
        }
        closing = true;
        ch.close();
        try {
            reader.join(5000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
