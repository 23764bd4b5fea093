package dev.ublkgateway.core.frontend.nbd;

import dev.ublkgateway.core.sys.NativeException;
import dev.ublkgateway.core.sys.Sockets;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static dev.ublkgateway.api.Errno.EAGAIN;
import static dev.ublkgateway.api.Errno.ECONNRESET;
import static dev.ublkgateway.api.Errno.EINTR;
import static dev.ublkgateway.api.Errno.ETIMEDOUT;

/**
 * The handshake's blocking receives and sends, all under one deadline. Before every recv and send the
 * socket's timeouts are set to the time left, so a client that trickles one byte at a time cannot
 * stretch the handshake: a timeout per call would restart with each byte.
 */
final class DeadlineSocket {

    /** The deadline passed before the handshake finished. */
    static final class Expired extends NativeException {
        Expired() {
            super("handshake", ETIMEDOUT);
        }
    }

    private final int fd;
    private final long deadlineNanos;
    private final MemorySegment st, tv;

    /** {@code deadlineNanos} is a {@link System#nanoTime()} value. */
    DeadlineSocket(int fd, long deadlineNanos, Arena arena) {
        this.fd = fd;
        this.deadlineNanos = deadlineNanos;
        this.st = Sockets.callState(arena);
        this.tv = arena.allocate(16, 8);
    }

    /** Reads exactly {@code buf.byteSize()} bytes; false on orderly end of file before the first. */
    boolean readFully(MemorySegment buf) throws NativeException {
        long done = 0, len = buf.byteSize();
        while (done < len) {
            armTimeout();
            long n = Sockets.recv(fd, buf.asSlice(done), st);
            if (n == -EINTR || n == -EAGAIN) continue; // EAGAIN: timed out; armTimeout decides
            if (n < 0) throw new NativeException("recv", (int) -n);
            if (n == 0) {
                if (done == 0) return false;
                throw new NativeException("recv (peer closed mid-message)", ECONNRESET);
            }
            done += n;
        }
        return true;
    }

    /** Reads what has arrived, at least one byte, into {@code buf}; 0 at end of file. */
    long readSome(MemorySegment buf) throws NativeException {
        while (true) {
            armTimeout();
            long n = Sockets.recv(fd, buf, st);
            if (n == -EINTR || n == -EAGAIN) continue;
            if (n < 0) throw new NativeException("recv", (int) -n);
            return n;
        }
    }

    void writeFully(MemorySegment buf) throws NativeException {
        long done = 0, len = buf.byteSize();
        while (done < len) {
            armTimeout();
            long n = Sockets.send(fd, buf.asSlice(done), st);
            if (n == -EINTR || n == -EAGAIN) continue;
            if (n < 0) throw new NativeException("send", (int) -n);
            done += n;
        }
    }

    /** Reads and drops {@code n} bytes through {@code scratch}. */
    void skip(long n, MemorySegment scratch) throws NativeException {
        while (n > 0) {
            long k = Math.min(n, scratch.byteSize());
            if (!readFully(scratch.asSlice(0, k))) throw new NativeException("recv (peer closed mid-message)", ECONNRESET);
            n -= k;
        }
    }

    /** The next call may wait only for what is left; none left: {@link Expired}. */
    private void armTimeout() throws Expired {
        long left = deadlineNanos - System.nanoTime();
        if (left <= 0) throw new Expired();
        Sockets.setTimeoutMicros(fd, (left + 999) / 1000, tv, st);
    }
}
