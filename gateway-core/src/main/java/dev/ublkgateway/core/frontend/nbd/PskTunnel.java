package dev.ublkgateway.core.frontend.nbd;

import dev.ublkgateway.core.sys.NativeException;
import dev.ublkgateway.core.sys.Sockets;
import dev.ublkgateway.core.tls.Tls13Psk;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Map;

import static dev.ublkgateway.api.Errno.EINTR;

/**
 * TLS-PSK ({@link Tls13Psk}) between the client's socket and a socket pair, as {@link TlsTunnel} does
 * for certificates: two pump threads, the connection unchanged on its end of the pair.
 */
final class PskTunnel extends Tunnel {
    private static final int CHUNK = 64 * 1024;

    private final Tls13Psk tls;

    private PskTunnel(int netFd, int[] pair, Tls13Psk tls) {
        super(netFd, pair);
        this.tls = tls;
    }

    /** The TLS handshake under the NBD handshake's deadline ({@code io}), then the pumps. */
    static PskTunnel start(int netFd, Map<String, byte[]> keys, DeadlineSocket io, String name) throws IOException {
        int[] pair = Sockets.socketPair();
        PskTunnel t;
        try {
            FdWire wire = new FdWire(netFd, io);
            Tls13Psk tls = Tls13Psk.accept(wire, keys);
            wire.handshake = null;
            Sockets.setTimeout(netFd, 0); // the pumps wait as long as the client stays
            t = new PskTunnel(netFd, pair, tls);
        } catch (Tls13Psk.Alert e) {
            closePair(pair);
            throw new javax.net.ssl.SSLException("TLS-PSK handshake failed: " + e.getMessage());
        } catch (IOException | RuntimeException e) {
            closePair(pair);
            throw e;
        }
        t.startPumps(name);
        return t;
    }

    @Override
    void readLoop() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = Sockets.callState(a), seg = a.allocate(CHUNK);
            byte[] buf = new byte[CHUNK];
            for (int n; (n = tls.read(buf, 0, buf.length)) > 0; ) {
                MemorySegment.copy(buf, 0, seg, ValueLayout.JAVA_BYTE, 0, n);
                if (!sendAll(pumpFd, seg.asSlice(0, n), st)) return;
            }
        } catch (IOException | RuntimeException e) {
            Sockets.shutdown(netFd); // a forged record or an alert: nothing after it can be trusted
        } finally {
            Sockets.shutdownWrite(pumpFd); // the connection reads end-of-file
        }
    }

    @Override
    void writeLoop() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = Sockets.callState(a), seg = a.allocate(CHUNK);
            byte[] buf = new byte[CHUNK];
            while (true) {
                long n;
                do {
                    n = Sockets.recv(pumpFd, seg, st);
                } while (n == -EINTR);
                if (n <= 0) break; // the connection closed its end
                MemorySegment.copy(seg, ValueLayout.JAVA_BYTE, 0, buf, 0, (int) n);
                tls.write(buf, 0, (int) n);
            }
            tls.close();
        } catch (IOException | RuntimeException e) {
            Sockets.shutdown(pumpFd); // the client is gone: the connection's sends fail and it ends
            Sockets.shutdown(netFd);
        }
    }

    /**
     * The client's socket for {@link Tls13Psk}: buffered receives (a record's header and body come from
     * one), sends; through the handshake's deadline while {@link #handshake} is set. Reads come from one
     * thread, writes from one at a time.
     */
    private static final class FdWire implements Tls13Psk.Wire {
        private final int fd;
        private final MemorySegment in, out, readState, writeState;
        private int inAt, inEnd;
        volatile DeadlineSocket handshake;

        FdWire(int fd, DeadlineSocket handshake) {
            Arena a = Arena.ofAuto();
            this.fd = fd;
            this.handshake = handshake;
            in = a.allocate(CHUNK);
            out = a.allocate(CHUNK);
            readState = Sockets.callState(a);
            writeState = Sockets.callState(a);
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (inAt == inEnd) {
                inAt = inEnd = 0;
                long n;
                DeadlineSocket h = handshake;
                if (h != null) {
                    n = h.readSome(in);
                } else {
                    do {
                        n = Sockets.recv(fd, in, readState);
                    } while (n == -EINTR);
                    if (n < 0) throw new NativeException("recv", (int) -n);
                }
                if (n == 0) return -1;
                inEnd = (int) n;
            }
            int n = Math.min(len, inEnd - inAt);
            MemorySegment.copy(in, ValueLayout.JAVA_BYTE, inAt, b, off, n);
            inAt += n;
            return n;
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            while (len > 0) {
                int n = Math.min(len, CHUNK);
                MemorySegment.copy(b, off, out, ValueLayout.JAVA_BYTE, 0, n);
                DeadlineSocket h = handshake;
                if (h != null) h.writeFully(out.asSlice(0, n));
                else if (!sendAll(fd, out.asSlice(0, n), writeState)) throw new NativeException("send", 32 /* EPIPE */);
                off += n;
                len -= n;
            }
        }
    }
}
