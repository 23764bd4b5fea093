package dev.ublkgateway.core.frontend.nbd;

import dev.ublkgateway.core.sys.NativeException;
import dev.ublkgateway.core.sys.Sockets;

import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.SSLEngineResult.HandshakeStatus;
import javax.net.ssl.SSLException;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;

import static dev.ublkgateway.api.Errno.ECONNRESET;
import static dev.ublkgateway.api.Errno.EINTR;

/**
 * TLS on a client's socket, with the connection kept as it is without TLS: the rest of the handshake
 * and the whole transmission phase (io_uring receives and sends) use one end of a socket pair, and two
 * pump threads carry the bytes between its other end and the client, decrypting and encrypting them
 * with an {@link SSLEngine}. Plain connections never meet any of this, so they pay nothing for it.
 *
 * <p>Ends propagate both ways: the client closing (or a stop shutting its socket's reading side) shows
 * as end-of-file on the connection's end; the connection closing its end makes the writer send
 * close_notify. A failure on either side shuts both down.
 */
final class TlsTunnel extends Tunnel {
    private static final int APP_CHUNK = 64 * 1024;
    private static final int RECORDS_PER_SEND = 4;

    private final SSLEngine engine;
    private final Object sendLock = new Object();
    private final MemorySegment netInSeg, appInSeg;
    private final ByteBuffer netIn, appIn;
    private final MemorySegment readerState;

    private TlsTunnel(int netFd, int[] pair, SSLEngine engine, Arena arena) {
        super(netFd, pair);
        this.engine = engine;
        int packet = engine.getSession().getPacketBufferSize(), app = engine.getSession().getApplicationBufferSize();
        netInSeg = arena.allocate(packet * 2L, 64);
        appInSeg = arena.allocate(app + 1024L, 64);
        netIn = netInSeg.asByteBuffer().flip(); // read mode: nothing received yet
        appIn = appInSeg.asByteBuffer();
        readerState = Sockets.callState(arena);
    }

    /**
     * Runs the TLS handshake on {@code netFd} through {@code io} (the NBD handshake's deadline bounds it),
     * then starts the pumps. On failure nothing is left open but {@code netFd}, which stays the caller's.
     */
    static TlsTunnel start(int netFd, SSLEngine engine, DeadlineSocket io, String name) throws IOException {
        int[] pair = Sockets.socketPair();
        TlsTunnel t = new TlsTunnel(netFd, pair, engine, Arena.ofAuto());
        try {
            t.handshake(io);
            Sockets.setTimeout(netFd, 0); // the pumps wait as long as the client stays
        } catch (IOException | RuntimeException e) {
            closePair(pair);
            throw e;
        }
        t.startPumps(name);
        return t;
    }

    private void handshake(DeadlineSocket io) throws IOException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment outSeg = a.allocate(engine.getSession().getPacketBufferSize() * 2L, 64);
            ByteBuffer out = outSeg.asByteBuffer();
            ByteBuffer empty = ByteBuffer.allocate(0);
            engine.beginHandshake();
            HandshakeStatus hs = engine.getHandshakeStatus();
            try {
                while (hs != HandshakeStatus.FINISHED && hs != HandshakeStatus.NOT_HANDSHAKING) {
                    switch (hs) {
                        case NEED_WRAP -> {
                            out.clear();
                            SSLEngineResult r = engine.wrap(empty, out);
                            io.writeFully(outSeg.asSlice(0, out.position()));
                            if (r.getStatus() == SSLEngineResult.Status.CLOSED) throw new SSLException("TLS closed in the handshake");
                            hs = r.getHandshakeStatus();
                        }
                        case NEED_UNWRAP, NEED_UNWRAP_AGAIN -> {
                            SSLEngineResult r = engine.unwrap(netIn, appIn);
                            switch (r.getStatus()) {
                                case BUFFER_UNDERFLOW -> {
                                    if (!receive(io)) throw new NativeException("TLS handshake (client left)", ECONNRESET);
                                }
                                case CLOSED -> throw new SSLException("the client closed TLS in the handshake");
                                case BUFFER_OVERFLOW -> throw new SSLException("TLS record larger than the buffer");
                                case OK -> { }
                            }
                            hs = r.getHandshakeStatus();
                        }
                        case NEED_TASK -> {
                            for (Runnable task; (task = engine.getDelegatedTask()) != null; ) task.run();
                            hs = engine.getHandshakeStatus();
                        }
                        default -> throw new IllegalStateException("TLS handshake status " + hs);
                    }
                }
            } catch (SSLException e) {
                // the engine has an alert for the client explaining the refusal: send it if it can still go
                try {
                    engine.closeOutbound();
                    out.clear();
                    engine.wrap(empty, out);
                    io.writeFully(outSeg.asSlice(0, out.position()));
                } catch (IOException | RuntimeException ignored) {
                    // the client may be gone
                }
                throw new SSLException("TLS handshake failed: " + e.getMessage(), e);
            }
        }
        // the client may have sent its first option right behind its Finished: it is delivered first
        flushApp(Sockets.callState(Arena.ofAuto()));
    }

    /** More TLS bytes into netIn during the handshake; false at end of file. */
    private boolean receive(DeadlineSocket io) throws NativeException {
        netIn.compact();
        long n = io.readSome(netInSeg.asSlice(netIn.position(), netIn.remaining()));
        if (n > 0) netIn.position(netIn.position() + (int) n);
        netIn.flip();
        return n > 0;
    }

    /** Client to connection: unwraps records and passes their plaintext on. */
    @Override
    void readLoop() {
        try {
            while (true) {
                SSLEngineResult r = engine.unwrap(netIn, appIn);
                if (!flushApp(readerState)) return;
                switch (r.getStatus()) {
                    case CLOSED -> {
                        return; // close_notify
                    }
                    case BUFFER_OVERFLOW -> throw new SSLException("TLS record larger than the buffer");
                    case BUFFER_UNDERFLOW -> {
                        netIn.compact();
                        long n;
                        do {
                            n = Sockets.recv(netFd, netInSeg.asSlice(netIn.position(), netIn.remaining()), readerState);
                        } while (n == -EINTR);
                        if (n <= 0) return; // the client left (or a stop shut our reading side)
                        netIn.position(netIn.position() + (int) n);
                        netIn.flip();
                    }
                    case OK -> { }
                }
                postHandshake(r.getHandshakeStatus());
            }
        } catch (SSLException | RuntimeException e) {
            Sockets.shutdown(netFd); // a forged or broken record: nothing after it can be trusted
        } finally {
            Sockets.shutdownWrite(pumpFd); // the connection reads end-of-file
        }
    }

    /** A key update (TLS 1.3) or renegotiation request asks for records back. */
    private void postHandshake(HandshakeStatus hs) throws SSLException {
        while (true) {
            switch (hs) {
                case NEED_TASK -> {
                    for (Runnable task; (task = engine.getDelegatedTask()) != null; ) task.run();
                    hs = engine.getHandshakeStatus();
                }
                case NEED_WRAP -> {
                    synchronized (sendLock) {
                        ByteBuffer out = ByteBuffer.allocateDirect(engine.getSession().getPacketBufferSize());
                        SSLEngineResult r = engine.wrap(ByteBuffer.allocate(0), out);
                        MemorySegment s = MemorySegment.ofBuffer(out.flip());
                        if (!sendAll(netFd, s, readerState)) throw new SSLException("the client left");
                        hs = r.getHandshakeStatus();
                    }
                }
                default -> {
                    return;
                }
            }
        }
    }

    /** Connection to client: wraps what the connection sends; at its end, close_notify. */
    @Override
    void writeLoop() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = Sockets.callState(a);
            int packet = engine.getSession().getPacketBufferSize();
            MemorySegment appSeg = a.allocate(APP_CHUNK, 64), netSeg = a.allocate((long) packet * RECORDS_PER_SEND, 64);
            ByteBuffer app = appSeg.asByteBuffer(), net = netSeg.asByteBuffer();
            boolean ok = true;
            while (ok) {
                long n;
                do {
                    n = Sockets.recv(pumpFd, appSeg, st);
                } while (n == -EINTR);
                if (n <= 0) break; // the connection closed its end
                app.clear().limit((int) n);
                while (ok && app.hasRemaining()) {
                    synchronized (sendLock) {
                        net.clear();
                        while (app.hasRemaining() && net.remaining() >= packet) {
                            SSLEngineResult r = engine.wrap(app, net);
                            if (r.getStatus() != SSLEngineResult.Status.OK) throw new SSLException("TLS " + r.getStatus());
                        }
                        ok = sendAll(netFd, netSeg.asSlice(0, net.position()), st);
                    }
                }
            }
            if (ok) {
                synchronized (sendLock) {
                    engine.closeOutbound();
                    net.clear();
                    engine.wrap(ByteBuffer.allocate(0), net);
                    sendAll(netFd, netSeg.asSlice(0, net.position()), st);
                }
            } else {
                Sockets.shutdown(pumpFd); // the client is gone: the connection's sends fail and it ends
            }
        } catch (SSLException | RuntimeException e) {
            Sockets.shutdown(pumpFd);
            Sockets.shutdown(netFd);
        }
    }

    /** Hands decrypted bytes to the connection; false when it is gone. */
    private boolean flushApp(MemorySegment st) {
        if (appIn.position() == 0) return true;
        boolean ok = sendAll(pumpFd, appInSeg.asSlice(0, appIn.position()), st);
        appIn.clear();
        return ok;
    }
}
