package dev.ublkgateway.core.frontend.nbd;

import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.URLDecoder;
import java.net.UnixDomainSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * An NBD URI as libnbd and qemu write them: {@code nbd://HOST[:PORT]/EXPORT} (TCP, port 10809 by default)
 * and {@code nbd+unix:///EXPORT?socket=PATH} (a Unix socket). TLS ({@code nbds://}) and other transports
 * are refused with the fix.
 */
public record NbdUri(String text, SocketAddress address, String export) {
    public static final int DEFAULT_PORT = 10809;

    /** Whether {@code s} is meant as an NBD URI (rather than a file name). */
    public static boolean looksLike(String s) {
        return s.matches("(?i)nbds?(\\+[a-z]+)?://.*");
    }

    /** Parses {@code s}; a URI this client cannot use is one line naming the fix. */
    public static NbdUri parse(String s) {
        URI u;
        try {
            u = new URI(s);
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException(s + " is not a valid NBD URI (" + e.getReason() + "); write nbd://HOST[:PORT]/EXPORT or "
                    + "nbd+unix:///EXPORT?socket=PATH");
        }
        String scheme = u.getScheme().toLowerCase(java.util.Locale.ROOT);
        if (scheme.startsWith("nbds")) {
            throw new IllegalArgumentException(s + ": NBD with TLS (nbds://) is not supported here; copy the export to a file first "
                    + "(nbdcopy " + s + " disk.img, with its TLS options) and use the file, or serve it without TLS");
        }
        String export = u.getRawPath() == null || u.getRawPath().isEmpty() ? "" : URLDecoder.decode(u.getRawPath().substring(1),
                StandardCharsets.UTF_8);
        switch (scheme) {
            case "nbd" -> {
                if (u.getHost() == null) {
                    throw new IllegalArgumentException(s + " names no host; write nbd://HOST[:PORT]/EXPORT, or nbd+unix:///EXPORT?socket=PATH "
                            + "for a Unix socket");
                }
                String host = u.getHost().startsWith("[") ? u.getHost().substring(1, u.getHost().length() - 1) : u.getHost();
                return new NbdUri(s, InetSocketAddress.createUnresolved(host, u.getPort() < 0 ? DEFAULT_PORT : u.getPort()), export);
            }
            case "nbd+unix" -> {
                String socket = query(u, "socket");
                if (socket == null || socket.isEmpty()) {
                    throw new IllegalArgumentException(s + " names no socket; write nbd+unix:///EXPORT?socket=PATH");
                }
                return new NbdUri(s, UnixDomainSocketAddress.of(Path.of(socket)), export);
            }
            default -> throw new IllegalArgumentException(s + ": transport " + scheme + " is not supported; use nbd://HOST[:PORT]/EXPORT "
                    + "or nbd+unix:///EXPORT?socket=PATH");
        }
    }

    private static String query(URI u, String key) {
        if (u.getRawQuery() == null) return null;
        for (String kv : u.getRawQuery().split("&")) {
            int eq = kv.indexOf('=');
            String k = eq < 0 ? kv : kv.substring(0, eq);
            if (k.equals(key)) return eq < 0 ? "" : URLDecoder.decode(kv.substring(eq + 1), StandardCharsets.UTF_8);
        }
        return null;
    }

    @Override
    public String toString() {
        return text;
    }
}
