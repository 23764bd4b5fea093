package dev.ublkgateway.core.frontend.nbd;

import dev.ublkgateway.core.sys.NativeException;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/**
 * The socket calls the NBD frontend needs, through FFM: listening TCP and unix sockets, accept, who the
 * peer is, and the blocking receives and sends of the handshake (see {@link DeadlineSocket}). Once a
 * connection is in the transmission phase its I/O goes through the connection's io_uring instead.
 */
final class Sockets {
    static final int AF_UNIX = 1, AF_INET = 2, AF_INET6 = 10;
    static final int SOCK_STREAM = 1, SOCK_CLOEXEC = 02000000;
    static final int SOL_SOCKET = 1, SO_REUSEADDR = 2, SO_RCVTIMEO = 20, SO_SNDTIMEO = 21, SO_KEEPALIVE = 9,
            SO_PEERCRED = 17;
    static final int IPPROTO_TCP = 6, TCP_NODELAY = 1, TCP_KEEPIDLE = 4, TCP_KEEPINTVL = 5, TCP_KEEPCNT = 6;
    static final int IPPROTO_IPV6 = 41, IPV6_V6ONLY = 26;
    static final int SHUT_RDWR = 2;
    static final int MSG_NOSIGNAL = 0x4000, MSG_WAITALL = 0x100;

    private static final Linker LINKER = Linker.nativeLinker();
    private static final StructLayout CALL_STATE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CALL_STATE.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final Linker.Option CAPTURE = Linker.Option.captureCallState("errno");

    private static final MethodHandle SOCKET = call("socket", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT));
    private static final MethodHandle BIND = call("bind", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle LISTEN = call("listen", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
    private static final MethodHandle ACCEPT4 = call("accept4", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, JAVA_INT));
    private static final MethodHandle CONNECT = call("connect", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle SETSOCKOPT = call("setsockopt",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle SHUTDOWN = call("shutdown", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
    private static final MethodHandle CLOSE = call("close", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    private static final MethodHandle RECV = call("recv", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT));
    private static final MethodHandle SEND = call("send", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT));
    private static final MethodHandle GETSOCKNAME = call("getsockname", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS));
    private static final MethodHandle GETPEERNAME = call("getpeername", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS));
    private static final MethodHandle GETSOCKOPT = call("getsockopt",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, ADDRESS));

    private Sockets() {}

    private static MethodHandle call(String name, FunctionDescriptor fd) {
        return LINKER.downcallHandle(LINKER.defaultLookup().findOrThrow(name), fd, CAPTURE);
    }

    private static int errno(MemorySegment st) {
        return (int) ERRNO.get(st, 0L);
    }

    private static RuntimeException unexpected(Throwable t) {
        if (t instanceof RuntimeException r) return r;
        if (t instanceof Error e) throw e;
        return new IllegalStateException(t);
    }

    /** A listening socket on {@code address}; a stale unix socket file is replaced. */
    static int listen(ListenAddress address, int backlog) throws NativeException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = a.allocate(CALL_STATE);
            MemorySegment sa = sockaddr(a, address);
            int family = sa.get(JAVA_SHORT, 0);
            int fd = (int) SOCKET.invokeExact(st, family, SOCK_STREAM | SOCK_CLOEXEC, 0);
            if (fd < 0) throw new NativeException("socket", errno(st));
            try {
                if (family != AF_UNIX) setInt(fd, SOL_SOCKET, SO_REUSEADDR, 1);
                if (family == AF_INET6) setInt(fd, IPPROTO_IPV6, IPV6_V6ONLY, 0);
                int r = (int) BIND.invokeExact(st, fd, sa, (int) sa.byteSize());
                if (r < 0) throw new NativeException("bind " + address, errno(st));
                r = (int) LISTEN.invokeExact(st, fd, backlog);
                if (r < 0) throw new NativeException("listen " + address, errno(st));
                return fd;
            } catch (NativeException e) {
                close(fd);
                throw e;
            }
        } catch (NativeException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /** True when something accepts connections on {@code address} (used to tell a stale unix socket from a live one). */
    static boolean connectable(ListenAddress address) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = a.allocate(CALL_STATE);
            MemorySegment sa = sockaddr(a, address);
            int fd = (int) SOCKET.invokeExact(st, (int) sa.get(JAVA_SHORT, 0), SOCK_STREAM | SOCK_CLOEXEC, 0);
            if (fd < 0) return false;
            int r = (int) CONNECT.invokeExact(st, fd, sa, (int) sa.byteSize());
            close(fd);
            return r == 0;
        } catch (Throwable t) {
            return false;
        }
    }

    /** The port a TCP socket is bound to (for port 0 listeners). */
    static int localPort(int fd) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = a.allocate(CALL_STATE);
            MemorySegment sa = a.allocate(128, 8);
            MemorySegment len = a.allocateFrom(JAVA_INT, 128);
            int r = (int) GETSOCKNAME.invokeExact(st, fd, sa, len);
            if (r < 0) return -1;
            return Short.toUnsignedInt(Short.reverseBytes(sa.get(JAVA_SHORT, 2)));
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /** Blocks for the next connection; -errno on failure (EINVAL/EBADF once the listener is shut down). */
    static int accept(int listenFd) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = a.allocate(CALL_STATE);
            int fd = (int) ACCEPT4.invokeExact(st, listenFd, MemorySegment.NULL, MemorySegment.NULL, SOCK_CLOEXEC);
            return fd < 0 ? -errno(st) : fd;
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    static void setInt(int fd, int level, int name, int value) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = a.allocate(CALL_STATE);
            int r = (int) SETSOCKOPT.invokeExact(st, fd, level, name, a.allocateFrom(JAVA_INT, value), 4);
            if (r < 0 && level != IPPROTO_TCP) throw new IllegalStateException("setsockopt: errno " + errno(st));
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /**
     * A socket receive buffer of {@code bytes}, beyond the system limit when allowed (SO_RCVBUFFORCE). The
     * send buffer stays as it is: larger ones make the kernel build huge, costly socket buffers.
     */
    static void setBuffers(int fd, int bytes) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = a.allocate(CALL_STATE);
            MemorySegment v = a.allocateFrom(JAVA_INT, bytes);
            if ((int) SETSOCKOPT.invokeExact(st, fd, SOL_SOCKET, 33 /* SO_RCVBUFFORCE */, v, 4) < 0) {
                int ignored = (int) SETSOCKOPT.invokeExact(st, fd, SOL_SOCKET, 8 /* SO_RCVBUF */, v, 4);
            }
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /** Sets SO_RCVTIMEO and SO_SNDTIMEO in milliseconds (0 = none: how the handshake's are cleared). */
    static void setTimeout(int fd, long millis) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment tv = a.allocate(16, 8);
            tv.set(JAVA_LONG, 0, millis / 1000);
            tv.set(JAVA_LONG, 8, (millis % 1000) * 1000);
            setTimeouts(fd, tv, a.allocate(CALL_STATE));
        }
    }

    static void shutdown(int fd) {
        try (Arena a = Arena.ofConfined()) {
            int ignored = (int) SHUTDOWN.invokeExact(a.allocate(CALL_STATE), fd, SHUT_RDWR);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /** Ends the reading side: a blocked or queued receive sees end-of-file; replies can still go out. */
    static void shutdownRead(int fd) {
        try (Arena a = Arena.ofConfined()) {
            int ignored = (int) SHUTDOWN.invokeExact(a.allocate(CALL_STATE), fd, 0 /* SHUT_RD */);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    static void close(int fd) {
        if (fd < 0) return;
        try (Arena a = Arena.ofConfined()) {
            int ignored = (int) CLOSE.invokeExact(a.allocate(CALL_STATE), fd);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /** One recv(2) into {@code buf}: the bytes received (0 at end of file), or -errno. */
    static long recv(int fd, MemorySegment buf, MemorySegment st) {
        try {
            long n = (long) RECV.invokeExact(st, fd, buf, buf.byteSize(), 0);
            return n < 0 ? -errno(st) : n;
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /** One send(2) of {@code buf} (no SIGPIPE): the bytes sent, or -errno. */
    static long send(int fd, MemorySegment buf, MemorySegment st) {
        try {
            long n = (long) SEND.invokeExact(st, fd, buf, buf.byteSize(), MSG_NOSIGNAL);
            return n < 0 ? -errno(st) : n;
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /**
     * Sets SO_RCVTIMEO and SO_SNDTIMEO to {@code micros} (at least 1: 0 would mean none) in the caller's
     * 16-byte {@code tv}, so that a loop can set it before every call without allocating.
     */
    static void setTimeoutMicros(int fd, long micros, MemorySegment tv, MemorySegment st) {
        micros = Math.max(1, micros);
        tv.set(JAVA_LONG, 0, micros / 1_000_000);
        tv.set(JAVA_LONG, 8, micros % 1_000_000);
        setTimeouts(fd, tv, st);
    }

    /** SO_RCVTIMEO and SO_SNDTIMEO from a filled-in struct timeval. */
    private static void setTimeouts(int fd, MemorySegment tv, MemorySegment st) {
        try {
            int r1 = (int) SETSOCKOPT.invokeExact(st, fd, SOL_SOCKET, SO_RCVTIMEO, tv, 16);
            int r2 = (int) SETSOCKOPT.invokeExact(st, fd, SOL_SOCKET, SO_SNDTIMEO, tv, 16);
            if (r1 < 0 || r2 < 0) throw new IllegalStateException("setsockopt timeout: errno " + errno(st));
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /** The peer's socket address as the kernel gives it (sockaddr_in or sockaddr_in6), or null. */
    static MemorySegment peerAddress(int fd, Arena a) {
        try {
            MemorySegment st = a.allocate(CALL_STATE);
            MemorySegment sa = a.allocate(128, 8);
            MemorySegment len = a.allocateFrom(JAVA_INT, 128);
            int r = (int) GETPEERNAME.invokeExact(st, fd, sa, len);
            return r < 0 ? null : sa.asSlice(0, Math.min(128, len.get(JAVA_INT, 0)));
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /** A unix socket peer's {pid, uid} (SO_PEERCRED), or null. */
    static int[] peerCredentials(int fd) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = a.allocate(CALL_STATE);
            MemorySegment cred = a.allocate(12, 4); // struct ucred: pid, uid, gid
            MemorySegment len = a.allocateFrom(JAVA_INT, 12);
            int r = (int) GETSOCKOPT.invokeExact(st, fd, SOL_SOCKET, SO_PEERCRED, cred, len);
            return r < 0 ? null : new int[] {cred.get(JAVA_INT, 0), cred.get(JAVA_INT, 4)};
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    static MemorySegment callState(Arena a) {
        return a.allocate(CALL_STATE);
    }

    private static MemorySegment sockaddr(Arena a, ListenAddress address) {
        if (address.unixPath() != null) {
            byte[] p = address.unixPath().getBytes(StandardCharsets.UTF_8);
            if (p.length > 107) throw new IllegalArgumentException("unix socket path too long (max 107 bytes): " + address);
            MemorySegment sa = a.allocate(110, 8);
            sa.set(JAVA_SHORT, 0, (short) AF_UNIX);
            MemorySegment.copy(p, 0, sa, JAVA_BYTE, 2, p.length);
            return sa.asSlice(0, 2 + p.length + 1);
        }
        InetAddress ip = address.inet();
        short port = Short.reverseBytes((short) address.port());
        if (ip instanceof Inet4Address v4) {
            MemorySegment sa = a.allocate(16, 8);
            sa.set(JAVA_SHORT, 0, (short) AF_INET);
            sa.set(JAVA_SHORT, 2, port);
            MemorySegment.copy(v4.getAddress(), 0, sa, JAVA_BYTE, 4, 4);
            return sa;
        }
        Inet6Address v6 = (Inet6Address) ip;
        MemorySegment sa = a.allocate(28, 8);
        sa.set(JAVA_SHORT, 0, (short) AF_INET6);
        sa.set(JAVA_SHORT, 2, port);
        MemorySegment.copy(v6.getAddress(), 0, sa, JAVA_BYTE, 8, 16);
        sa.set(JAVA_INT, 24, v6.getScopeId());
        return sa;
    }
}
