package dev.ublkgateway.core.sys;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
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
 * Socket calls through FFM, errno captured as {@link Libc}'s are: listening TCP and unix sockets on an
 * {@link Endpoint}, accept, options, who the peer is, and blocking receives and sends (a server's
 * handshake; its bulk I/O may go through io_uring instead).
 */
public final class Sockets {
    public static final int AF_UNIX = 1, AF_INET = 2, AF_INET6 = 10;
    public static final int SOCK_STREAM = 1, SOCK_DGRAM = 2, SOCK_CLOEXEC = 02000000;
    public static final int SOL_SOCKET = 1, SO_REUSEADDR = 2, SO_RCVTIMEO = 20, SO_SNDTIMEO = 21, SO_KEEPALIVE = 9,
            SO_PEERCRED = 17, SO_TYPE = 3, SO_ACCEPTCONN = 30;
    public static final int IPPROTO_TCP = 6, TCP_NODELAY = 1, TCP_KEEPIDLE = 4, TCP_KEEPINTVL = 5, TCP_KEEPCNT = 6;
    public static final int IPPROTO_IPV6 = 41, IPV6_V6ONLY = 26;
    public static final int SHUT_RDWR = 2;
    public static final int MSG_NOSIGNAL = 0x4000, MSG_WAITALL = 0x100;

    private static final MethodHandle SOCKET = Libc.errnoCall("socket", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT));
    private static final MethodHandle BIND = Libc.errnoCall("bind", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle LISTEN = Libc.errnoCall("listen", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
    private static final MethodHandle ACCEPT4 = Libc.errnoCall("accept4", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, JAVA_INT));
    private static final MethodHandle CONNECT = Libc.errnoCall("connect", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle SETSOCKOPT = Libc.errnoCall("setsockopt",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle SOCKETPAIR = Libc.errnoCall("socketpair",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS));
    private static final MethodHandle SHUTDOWN = Libc.errnoCall("shutdown", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
    private static final MethodHandle RECV = Libc.errnoCall("recv", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT));
    private static final MethodHandle SEND = Libc.errnoCall("send", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT));
    private static final MethodHandle SENDTO = Libc.errnoCall("sendto",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle GETSOCKNAME = Libc.errnoCall("getsockname", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS));
    private static final MethodHandle GETPEERNAME = Libc.errnoCall("getpeername", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS));
    private static final MethodHandle GETSOCKOPT = Libc.errnoCall("getsockopt",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, ADDRESS));

    private Sockets() {}

    /** A listening socket on {@code address}; a stale unix socket file is replaced. */
    public static int listen(Endpoint address, int backlog) throws NativeException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = Libc.callState(a);
            MemorySegment sa = sockaddr(a, address);
            int family = sa.get(JAVA_SHORT, 0);
            int fd = (int) SOCKET.invokeExact(st, family, SOCK_STREAM | SOCK_CLOEXEC, 0);
            if (fd < 0) throw new NativeException("socket", Libc.errno(st));
            try {
                if (family != AF_UNIX) setInt(fd, SOL_SOCKET, SO_REUSEADDR, 1);
                if (family == AF_INET6) setInt(fd, IPPROTO_IPV6, IPV6_V6ONLY, 0);
                int r = (int) BIND.invokeExact(st, fd, sa, (int) sa.byteSize());
                if (r < 0) throw new NativeException("bind " + address, Libc.errno(st));
                r = (int) LISTEN.invokeExact(st, fd, backlog);
                if (r < 0) throw new NativeException("listen " + address, Libc.errno(st));
                return fd;
            } catch (NativeException e) {
                Libc.close(fd);
                throw e;
            }
        } catch (NativeException e) {
            throw e;
        } catch (Throwable t) {
            throw Libc.unexpected(t);
        }
    }

    /**
     * Sends {@code message} as one datagram to the unix socket {@code path} ("@name" is an abstract
     * socket) from a fresh unbound socket: how a service talks to its supervisor.
     */
    public static void sendDatagram(String path, byte[] message) throws NativeException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = Libc.callState(a);
            MemorySegment sa = unixAddress(a, path);
            int fd = (int) SOCKET.invokeExact(st, AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
            if (fd < 0) throw new NativeException("socket", Libc.errno(st));
            try {
                MemorySegment buf = a.allocateFrom(JAVA_BYTE, message);
                long n = (long) SENDTO.invokeExact(st, fd, buf, (long) message.length, MSG_NOSIGNAL, sa, (int) sa.byteSize());
                if (n < 0) throw new NativeException("sendto " + path, Libc.errno(st));
            } finally {
                Libc.close(fd);
            }
        } catch (NativeException e) {
            throw e;
        } catch (Throwable t) {
            throw Libc.unexpected(t);
        }
    }

    /** A unix datagram socket bound to {@code path} ("@name": abstract), to receive what others send there. */
    public static int bindDatagram(String path) throws NativeException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = Libc.callState(a);
            MemorySegment sa = unixAddress(a, path);
            int fd = (int) SOCKET.invokeExact(st, AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
            if (fd < 0) throw new NativeException("socket", Libc.errno(st));
            int r = (int) BIND.invokeExact(st, fd, sa, (int) sa.byteSize());
            if (r < 0) {
                int errno = Libc.errno(st);
                Libc.close(fd);
                throw new NativeException("bind " + path, errno);
            }
            return fd;
        } catch (NativeException e) {
            throw e;
        } catch (Throwable t) {
            throw Libc.unexpected(t);
        }
    }

    /** sockaddr_un for a path, or for an abstract name when it starts with '@' (a leading NUL, no trailing one). */
    private static MemorySegment unixAddress(Arena a, String path) {
        boolean abstractName = path.startsWith("@");
        byte[] p = path.getBytes(StandardCharsets.UTF_8);
        if (p.length > 107) throw new IllegalArgumentException("unix socket path too long (max 107 bytes): " + path);
        MemorySegment sa = a.allocate(110, 8);
        sa.set(JAVA_SHORT, 0, (short) AF_UNIX);
        MemorySegment.copy(p, 0, sa, JAVA_BYTE, 2, p.length);
        if (abstractName) sa.set(JAVA_BYTE, 2, (byte) 0);
        return sa.asSlice(0, 2 + p.length + (abstractName ? 0 : 1));
    }

    /** True when something accepts connections on {@code address} (used to tell a stale unix socket from a live one). */
    public static boolean connectable(Endpoint address) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = Libc.callState(a);
            MemorySegment sa = sockaddr(a, address);
            int fd = (int) SOCKET.invokeExact(st, (int) sa.get(JAVA_SHORT, 0), SOCK_STREAM | SOCK_CLOEXEC, 0);
            if (fd < 0) return false;
            int r = (int) CONNECT.invokeExact(st, fd, sa, (int) sa.byteSize());
            Libc.close(fd);
            return r == 0;
        } catch (Throwable t) {
            return false;
        }
    }

    /** The port a TCP socket is bound to (for port 0 listeners). */
    public static int localPort(int fd) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = Libc.callState(a);
            MemorySegment sa = a.allocate(128, 8);
            MemorySegment len = a.allocateFrom(JAVA_INT, 128);
            int r = (int) GETSOCKNAME.invokeExact(st, fd, sa, len);
            if (r < 0) return -1;
            return Short.toUnsignedInt(Short.reverseBytes(sa.get(JAVA_SHORT, 2)));
        } catch (Throwable t) {
            throw Libc.unexpected(t);
        }
    }

    /**
     * The address socket {@code fd} is bound to, as an {@link Endpoint} (a socket handed over by a
     * supervisor: we did not choose it), or null for an unnamed or abstract unix socket or another family.
     */
    public static Endpoint boundAddress(int fd) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = Libc.callState(a);
            MemorySegment sa = a.allocate(128, 8);
            MemorySegment len = a.allocateFrom(JAVA_INT, 128);
            if ((int) GETSOCKNAME.invokeExact(st, fd, sa, len) < 0) return null;
            int n = len.get(JAVA_INT, 0);
            int port = Short.toUnsignedInt(Short.reverseBytes(sa.get(JAVA_SHORT, 2)));
            switch (sa.get(JAVA_SHORT, 0)) {
                case AF_UNIX -> {
                    if (n <= 2 || sa.get(JAVA_BYTE, 2) == 0) return null;
                    return new Endpoint(sa.getString(2, StandardCharsets.UTF_8), null, 0);
                }
                case AF_INET -> {
                    return new Endpoint(null, InetAddress.getByAddress(sa.asSlice(4, 4).toArray(JAVA_BYTE)).getHostAddress(), port);
                }
                case AF_INET6 -> {
                    String host = InetAddress.getByAddress(sa.asSlice(8, 16).toArray(JAVA_BYTE)).getHostAddress();
                    return new Endpoint(null, host.equals("0:0:0:0:0:0:0:0") ? "::" : host, port);
                }
                default -> {
                    return null;
                }
            }
        } catch (Throwable t) {
            throw Libc.unexpected(t);
        }
    }

    /** An int socket option, or -errno. */
    public static int getInt(int fd, int level, int name) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = Libc.callState(a);
            MemorySegment v = a.allocateFrom(JAVA_INT, 0);
            MemorySegment len = a.allocateFrom(JAVA_INT, 4);
            int r = (int) GETSOCKOPT.invokeExact(st, fd, level, name, v, len);
            return r < 0 ? -Libc.errno(st) : v.get(JAVA_INT, 0);
        } catch (Throwable t) {
            throw Libc.unexpected(t);
        }
    }

    /** Blocks for the next connection; -errno on failure (EINVAL/EBADF once the listener is shut down). */
    public static int accept(int listenFd) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = Libc.callState(a);
            int fd = (int) ACCEPT4.invokeExact(st, listenFd, MemorySegment.NULL, MemorySegment.NULL, SOCK_CLOEXEC);
            return fd < 0 ? -Libc.errno(st) : fd;
        } catch (Throwable t) {
            throw Libc.unexpected(t);
        }
    }

    public static void setInt(int fd, int level, int name, int value) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = Libc.callState(a);
            int r = (int) SETSOCKOPT.invokeExact(st, fd, level, name, a.allocateFrom(JAVA_INT, value), 4);
            if (r < 0 && level != IPPROTO_TCP) throw new IllegalStateException("setsockopt: errno " + Libc.errno(st));
        } catch (Throwable t) {
            throw Libc.unexpected(t);
        }
    }

    /**
     * A socket receive buffer of {@code bytes}, beyond the system limit when allowed (SO_RCVBUFFORCE). The
     * send buffer stays as it is: larger ones make the kernel build huge, costly socket buffers.
     */
    public static void setBuffers(int fd, int bytes) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = Libc.callState(a);
            MemorySegment v = a.allocateFrom(JAVA_INT, bytes);
            if ((int) SETSOCKOPT.invokeExact(st, fd, SOL_SOCKET, 33 /* SO_RCVBUFFORCE */, v, 4) < 0) {
                int ignored = (int) SETSOCKOPT.invokeExact(st, fd, SOL_SOCKET, 8 /* SO_RCVBUF */, v, 4);
            }
        } catch (Throwable t) {
            throw Libc.unexpected(t);
        }
    }

    /** Sets SO_RCVTIMEO and SO_SNDTIMEO in milliseconds (0 = none: how the handshake's are cleared). */
    public static void setTimeout(int fd, long millis) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment tv = a.allocate(16, 8);
            tv.set(JAVA_LONG, 0, millis / 1000);
            tv.set(JAVA_LONG, 8, (millis % 1000) * 1000);
            setTimeouts(fd, tv, Libc.callState(a));
        }
    }

    public static void shutdown(int fd) {
        try (Arena a = Arena.ofConfined()) {
            int ignored = (int) SHUTDOWN.invokeExact(Libc.callState(a), fd, SHUT_RDWR);
        } catch (Throwable t) {
            throw Libc.unexpected(t);
        }
    }

    /** Ends the reading side: a blocked or queued receive sees end-of-file; replies can still go out. */
    public static void shutdownRead(int fd) {
        try (Arena a = Arena.ofConfined()) {
            int ignored = (int) SHUTDOWN.invokeExact(Libc.callState(a), fd, 0 /* SHUT_RD */);
        } catch (Throwable t) {
            throw Libc.unexpected(t);
        }
    }

    /** Ends the writing side: the peer reads end-of-file once it has what was sent. */
    public static void shutdownWrite(int fd) {
        try (Arena a = Arena.ofConfined()) {
            int ignored = (int) SHUTDOWN.invokeExact(Libc.callState(a), fd, 1 /* SHUT_WR */);
        } catch (Throwable t) {
            throw Libc.unexpected(t);
        }
    }

    /** Two connected unix stream sockets (close-on-exec). */
    public static int[] socketPair() throws NativeException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = Libc.callState(a);
            MemorySegment fds = a.allocate(JAVA_INT, 2);
            int r = (int) SOCKETPAIR.invokeExact(st, AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds);
            if (r < 0) throw new NativeException("socketpair", Libc.errno(st));
            return new int[] {fds.getAtIndex(JAVA_INT, 0), fds.getAtIndex(JAVA_INT, 1)};
        } catch (NativeException e) {
            throw e;
        } catch (Throwable t) {
            throw Libc.unexpected(t);
        }
    }

    /** One recv(2) into {@code buf}: the bytes received (0 at end of file), or -errno. */
    public static long recv(int fd, MemorySegment buf, MemorySegment st) {
        try {
            long n = (long) RECV.invokeExact(st, fd, buf, buf.byteSize(), 0);
            return n < 0 ? -Libc.errno(st) : n;
        } catch (Throwable t) {
            throw Libc.unexpected(t);
        }
    }

    /** One send(2) of {@code buf} (no SIGPIPE): the bytes sent, or -errno. */
    public static long send(int fd, MemorySegment buf, MemorySegment st) {
        try {
            long n = (long) SEND.invokeExact(st, fd, buf, buf.byteSize(), MSG_NOSIGNAL);
            return n < 0 ? -Libc.errno(st) : n;
        } catch (Throwable t) {
            throw Libc.unexpected(t);
        }
    }

    /**
     * Sets SO_RCVTIMEO and SO_SNDTIMEO to {@code micros} (at least 1: 0 would mean none) in the caller's
     * 16-byte {@code tv}, so that a loop can set it before every call without allocating.
     */
    public static void setTimeoutMicros(int fd, long micros, MemorySegment tv, MemorySegment st) {
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
            if (r1 < 0 || r2 < 0) throw new IllegalStateException("setsockopt timeout: errno " + Libc.errno(st));
        } catch (Throwable t) {
            throw Libc.unexpected(t);
        }
    }

    /** The peer's socket address as the kernel gives it (sockaddr_in or sockaddr_in6), or null. */
    public static MemorySegment peerAddress(int fd, Arena a) {
        try {
            MemorySegment st = Libc.callState(a);
            MemorySegment sa = a.allocate(128, 8);
            MemorySegment len = a.allocateFrom(JAVA_INT, 128);
            int r = (int) GETPEERNAME.invokeExact(st, fd, sa, len);
            return r < 0 ? null : sa.asSlice(0, Math.min(128, len.get(JAVA_INT, 0)));
        } catch (Throwable t) {
            throw Libc.unexpected(t);
        }
    }

    /** A unix socket peer's {pid, uid} (SO_PEERCRED), or null. */
    public static int[] peerCredentials(int fd) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = Libc.callState(a);
            MemorySegment cred = a.allocate(12, 4); // struct ucred: pid, uid, gid
            MemorySegment len = a.allocateFrom(JAVA_INT, 12);
            int r = (int) GETSOCKOPT.invokeExact(st, fd, SOL_SOCKET, SO_PEERCRED, cred, len);
            return r < 0 ? null : new int[] {cred.get(JAVA_INT, 0), cred.get(JAVA_INT, 4)};
        } catch (Throwable t) {
            throw Libc.unexpected(t);
        }
    }

    public static MemorySegment callState(Arena a) {
        return Libc.callState(a);
    }

    private static MemorySegment sockaddr(Arena a, Endpoint address) {
        if (address.isUnix()) return unixAddress(a, address.unixPath());
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
