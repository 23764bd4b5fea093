package dev.ublkgateway.core.frontend.nbd;

import dev.ublkgateway.core.sys.Libc;
import dev.ublkgateway.core.sys.Sockets;

import java.lang.foreign.MemorySegment;
import java.time.Duration;

import static dev.ublkgateway.api.Errno.EINTR;

/**
 * TLS between the client's socket ({@link #netFd}) and a socket pair: the connection uses one end
 * ({@link #innerFd}) as it would the client's socket, and two pump threads carry the bytes between the
 * other end ({@link #pumpFd}) and the client, decrypting and encrypting them.
 */
abstract sealed class Tunnel implements AutoCloseable permits TlsTunnel, PskTunnel {
    final int netFd, innerFd, pumpFd;
    private Thread reader, writer;

    Tunnel(int netFd, int[] pair) {
        this.netFd = netFd;
        this.innerFd = pair[0];
        this.pumpFd = pair[1];
    }

    /** The connection's side: plain NBD in and out. */
    final int innerFd() {
        return innerFd;
    }

    /** Client to connection: decrypts until either side ends. */
    abstract void readLoop();

    /** Connection to client: encrypts until either side ends, then says goodbye. */
    abstract void writeLoop();

    /** After the TLS handshake: starts the two pumps. */
    final void startPumps(String name) {
        reader = Thread.ofPlatform().name(name + "-tls-in").start(this::readLoop);
        writer = Thread.ofPlatform().name(name + "-tls-out").start(this::writeLoop);
    }

    static void closePair(int[] pair) {
        Libc.close(pair[0]);
        Libc.close(pair[1]);
    }

    /** Sends all of {@code s}; false when the peer is gone. */
    static boolean sendAll(int fd, MemorySegment s, MemorySegment st) {
        long done = 0;
        while (done < s.byteSize()) {
            long n = Sockets.send(fd, s.asSlice(done), st);
            if (n == -EINTR) continue;
            if (n <= 0) return false;
            done += n;
        }
        return true;
    }

    /**
     * After the connection is done with its end: lets the writer send what is left and its goodbye,
     * stops the reader, and closes the pair. The client's socket stays the caller's to close.
     */
    @Override
    public final void close() {
        Libc.close(innerFd);
        try {
            if (writer != null && !writer.join(Duration.ofSeconds(10))) Sockets.shutdown(netFd);
            Sockets.shutdown(netFd);
            if (reader != null) reader.join(Duration.ofSeconds(10));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        Libc.close(pumpFd);
    }
}
