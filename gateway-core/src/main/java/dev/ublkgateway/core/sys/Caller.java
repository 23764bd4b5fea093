package dev.ublkgateway.core.sys;

import java.util.Map;

/**
 * Who runs this process: its effective uid and its environment. Commands decide what they may do
 * (ublk needs root, NBD does not) and where their files go from these; tests act as another user
 * with {@link #simulate} instead of having to run as one.
 */
public final class Caller {
    private record Identity(int euid, Map<String, String> env) {}

    private static volatile Identity simulated;

    private Caller() {}

    public static int euid() {
        Identity s = simulated;
        return s != null ? s.euid() : Libc.geteuid();
    }

    public static boolean isRoot() {
        return euid() == 0;
    }

    public static Map<String, String> env() {
        Identity s = simulated;
        return s != null ? s.env() : System.getenv();
    }

    /** Acts as {@code euid} with {@code env} until the result is closed. For tests. */
    public static AutoCloseable simulate(int euid, Map<String, String> env) {
        simulated = new Identity(euid, Map.copyOf(env));
        return () -> simulated = null;
    }
}
