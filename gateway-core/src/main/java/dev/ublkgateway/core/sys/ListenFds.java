package dev.ublkgateway.core.sys;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.invoke.MethodHandle;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * Listening sockets handed over by systemd's socket activation (or systemd-socket-activate): fds 3 to
 * 3+$LISTEN_FDS-1 when $LISTEN_PID names this process (a child that inherited the variables is not meant).
 */
public final class ListenFds {
    /** The first passed descriptor (SD_LISTEN_FDS_START). */
    public static final int START = 3;
    private static final int F_GETFL = 3, F_SETFL = 4, O_NONBLOCK = 04000;
    private static final MethodHandle FCNTL = Linker.nativeLinker().downcallHandle(
            Linker.nativeLinker().defaultLookup().findOrThrow("fcntl"),
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT), Linker.Option.firstVariadicArg(2));

    private ListenFds() {}

    /** This process's passed sockets, checked; empty when it was not socket-activated. */
    public static List<Integer> fromEnvironment() {
        List<Integer> fds = parse(System.getenv(), Libc.getpid());
        for (int fd : fds) checkListening(fd);
        return fds;
    }

    /** The descriptors {@code env} passes to process {@code pid}; bad values are one-line errors. */
    static List<Integer> parse(Map<String, String> env, int pid) {
        String count = env.get("LISTEN_FDS");
        String owner = env.get("LISTEN_PID");
        if (count == null || owner == null) return List.of();
        if (!owner.strip().equals(Integer.toString(pid))) return List.of();
        int n;
        try {
            n = Integer.parseInt(count.strip());
        } catch (NumberFormatException e) {
            n = -1;
        }
        if (n < 0 || n > 1000) {
            throw new IllegalArgumentException("LISTEN_FDS=" + count + " is not a count of passed sockets; "
                    + "start the gateway from a .socket unit or systemd-socket-activate, or unset LISTEN_FDS");
        }
        List<Integer> fds = new ArrayList<>();
        for (int i = 0; i < n; i++) fds.add(START + i);
        return fds;
    }

    /** Refuses a descriptor that is not a listening stream socket, and makes it blocking (accept waits). */
    static void checkListening(int fd) {
        if (Sockets.getInt(fd, Sockets.SOL_SOCKET, Sockets.SO_TYPE) != Sockets.SOCK_STREAM
                || Sockets.getInt(fd, Sockets.SOL_SOCKET, Sockets.SO_ACCEPTCONN) != 1) {
            throw new IllegalArgumentException("passed fd " + fd + " (LISTEN_FDS) is not a listening stream socket; "
                    + "use ListenStream= with Accept=no in the .socket unit");
        }
        try {
            int flags = (int) FCNTL.invokeExact(fd, F_GETFL, 0);
            if (flags >= 0 && (flags & O_NONBLOCK) != 0) {
                int ignored = (int) FCNTL.invokeExact(fd, F_SETFL, flags & ~O_NONBLOCK);
            }
        } catch (Throwable t) {
            throw Libc.unexpected(t);
        }
    }
}
