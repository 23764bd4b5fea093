package dev.ublkgateway.core.frontend.nbd;

import dev.ublkgateway.core.sys.Endpoint;

/**
 * Where the NBD server listens: an {@link Endpoint} whose TCP port defaults to 10809, the NBD port,
 * and which names its exports with NBD URIs.
 */
public record ListenAddress(String unixPath, String host, int port) {
    public static final int NBD_PORT = 10809;

    public static ListenAddress parse(String text) {
        Endpoint e = Endpoint.parse(text, NBD_PORT);
        return new ListenAddress(e.unixPath(), e.host(), e.port());
    }

    /** The same address for {@link dev.ublkgateway.core.sys.Sockets}. */
    Endpoint endpoint() {
        return new Endpoint(unixPath, host, port);
    }

    public boolean isUnix() {
        return unixPath != null;
    }

    /** The URI with TLS (nbds:// or nbds+unix://) when {@code tls}, else {@link #uri(String)}. */
    public String uri(String export, boolean tls) {
        String u = uri(export);
        return tls ? "nbds" + u.substring(3) : u;
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
        return endpoint().toString();
    }
}
