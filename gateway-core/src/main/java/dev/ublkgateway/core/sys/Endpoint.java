package dev.ublkgateway.core.sys;

import java.net.InetAddress;
import java.net.UnknownHostException;

/**
 * A socket address as users write it: {@code unix:/path/to.sock} (or any absolute path), or a TCP
 * {@code host:port}, {@code [v6addr]:port}, {@code :port} (all addresses) or a bare {@code host} (the
 * caller's default port). What {@link Sockets} listens on and connects to.
 *
 * @param unixPath the socket file, or null for TCP
 * @param host     the TCP host (0.0.0.0 for all addresses), or null for a unix socket
 * @param port     the TCP port, 0 for a unix socket
 */
public record Endpoint(String unixPath, String host, int port) {
    /** Reads {@code text}; a TCP address without a port gets {@code defaultPort}. */
    public static Endpoint parse(String text, int defaultPort) {
        String t = text.strip();
        if (t.startsWith("unix:")) t = t.substring(5);
        if (t.startsWith("/")) {
            if (t.length() < 2) throw new IllegalArgumentException("\"" + text + "\" is not a socket path");
            return new Endpoint(t, null, 0);
        }
        if (t.startsWith("tcp:")) t = t.substring(4);
        String host;
        int port = defaultPort;
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
                throw new IllegalArgumentException("\"" + text + "\": write IPv6 addresses in brackets, e.g. ["
                        + t.substring(0, colon) + "]:" + t.substring(colon + 1));
            }
            host = colon >= 0 ? t.substring(0, colon) : t;
            if (colon >= 0) port = port(t.substring(colon + 1), text);
        }
        if (host.isEmpty()) host = "0.0.0.0";
        return new Endpoint(null, host, port);
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

    @Override
    public String toString() {
        if (isUnix()) return "unix:" + unixPath;
        boolean v6 = host.contains(":");
        return (v6 ? "[" + host + "]" : host) + ":" + port;
    }
}
