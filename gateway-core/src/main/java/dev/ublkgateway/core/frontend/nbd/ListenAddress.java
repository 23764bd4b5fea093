package dev.ublkgateway.core.frontend.nbd;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;

/**
 * Where the NBD server listens: {@code unix:/path/to.sock} (or any absolute path), or a TCP
 * {@code host:port}, {@code [v6addr]:port}, {@code :port} (all addresses) or a bare {@code host}
 * (port 10809, the NBD port).
 */
public record ListenAddress(String unixPath, String host, int port) {
    public static final int NBD_PORT = 10809;

    public static ListenAddress parse(String text) {
        String t = text.strip();
        if (t.startsWith("unix:")) t = t.substring(5);
        if (t.startsWith("/")) {
            if (t.length() < 2) throw new IllegalArgumentException("\"" + text + "\" is not a socket path");
            return new ListenAddress(t, null, 0);
        }
        if (t.startsWith("tcp:")) t = t.substring(4);
        String host;
        int port = NBD_PORT;
        if (t.startsWith("[")) {
            int end = t.indexOf(']');
            if (end < 0) throw new IllegalArgumentException("\"" + text + "\": missing ] after the IPv6 address");
            host = t.substring(1, end);
            String rest = t.substring(end + 1);
            if (!rest.isEmpty()) {
                if (!rest.startsWith(":")) throw new IllegalArgumentException("\"" + text + "\": expected :PORT after ]");
                port = port(rest.substring(1), text);
            }
        } else {
            int colon = t.lastIndexOf(':');
            if (colon >= 0 && t.indexOf(':') != colon) {
                throw new IllegalArgumentException("\"" + text + "\": write IPv6 addresses in brackets, e.g. [::1]:10809");
            }
            host = colon >= 0 ? t.substring(0, colon) : t;
            if (colon >= 0) port = port(t.substring(colon + 1), text);
        }
        if (host.isEmpty()) host = "0.0.0.0";
        return new ListenAddress(null, host, port);
    }

    private static int port(String s, String text) {
        try {
            int p = Integer.parseInt(s);
            if (p < 0 || p > 65535) throw new NumberFormatException();
            return p;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("\"" + text + "\": port \"" + s + "\" is not a number in 0..65535");
        }
    }

    public boolean isUnix() {
        return unixPath != null;
    }

    InetAddress inet() {
        try {
            return InetAddress.getByName(host);
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("cannot resolve listen host \"" + host + "\"");
        }
    }

    /** The NBD URI (as libnbd, qemu and nbdkit write it) for one export on this address. */
    public String uri(String export) {
        if (isUnix()) return "nbd+unix:///" + export + "?socket=" + unixPath;
        String h = host;
        if (h.equals("0.0.0.0")) h = "127.0.0.1";
        else if (h.equals("::")) h = "::1";
        if (h.contains(":")) h = "[" + h + "]";
        return "nbd://" + h + (port == NBD_PORT ? "" : ":" + port) + "/" + export;
    }

    /** The same address with the port a listener actually got (for port 0). */
    ListenAddress withPort(int p) {
        return isUnix() ? this : new ListenAddress(null, host, p);
    }

    @Override
    public String toString() {
        if (isUnix()) return "unix:" + unixPath;
        boolean v6 = host.contains(":");
        return (v6 ? "[" + host + "]" : host) + ":" + port;
    }

    static boolean isV6(InetAddress a) {
        return a instanceof Inet6Address;
    }
}
