package dev.ublkgateway.core.config;

import java.util.List;
import java.util.Objects;

/**
 * How a device is served.
 *
 * @param frontend          {@code ublk}, {@code nbd} or {@code auto} (ublk when /dev/ublk-control exists and
 *                          we are root, else NBD)
 * @param nbdListen         NBD listen addresses ({@code unix:/path}, {@code host:port}); empty for the
 *                          defaults (the run directory's nbd.sock and 127.0.0.1:10809)
 * @param nbdMaxConnections most NBD client connections at once
 * @param pollMicros        how long a ublk queue thread spins for the next request before it sleeps
 *                          (0: it sleeps at once); trades a busy CPU for a shorter round trip
 * @param tls               TLS on the NBD frontend
 * @param zeroCopy          a ublk device may run zero copy where its chain and the kernel allow (default);
 *                          false keeps the copying data path
 * @param batchIo           a ublk device gets its requests and gives its answers in batches (BATCH_IO) where
 *                          the kernel has it; else one command per request and per answer
 */
public record FrontendConfig(String frontend, List<String> nbdListen, int nbdMaxConnections, int pollMicros,
                             NbdTlsConfig tls, boolean zeroCopy, boolean batchIo) {
    /** Where a device does not say: one command per request (see BENCHMARKS.md for batches). */
    public static final boolean DEFAULT_BATCH_IO = false;
    public static final List<String> KINDS = List.of("auto", "ublk", "nbd");
    public static final int DEFAULT_NBD_MAX_CONNECTIONS = 64;
    public static final int MAX_POLL_MICROS = 10_000;
    public static final FrontendConfig DEFAULT = new FrontendConfig("auto", List.of(), DEFAULT_NBD_MAX_CONNECTIONS, 0);

    /** Without TLS. */
    public FrontendConfig(String frontend, List<String> nbdListen, int nbdMaxConnections, int pollMicros) {
        this(frontend, nbdListen, nbdMaxConnections, pollMicros, NbdTlsConfig.OFF, true, DEFAULT_BATCH_IO);
    }

    /** Zero copy where possible. */
    public FrontendConfig(String frontend, List<String> nbdListen, int nbdMaxConnections, int pollMicros,
                          NbdTlsConfig tls) {
        this(frontend, nbdListen, nbdMaxConnections, pollMicros, tls, true, DEFAULT_BATCH_IO);
    }

    public FrontendConfig {
        Objects.requireNonNull(frontend, "frontend");
        if (!KINDS.contains(frontend)) throw new IllegalArgumentException("frontend \"" + frontend + "\" is not ublk, nbd or auto");
        tls = tls == null ? NbdTlsConfig.OFF : tls;
        nbdListen = nbdListen == null ? List.of() : List.copyOf(nbdListen);
        if (nbdMaxConnections < 1) throw new IllegalArgumentException("nbd-max-connections must be at least 1");
        if (pollMicros < 0 || pollMicros > MAX_POLL_MICROS) throw new IllegalArgumentException("poll-us must be in 0.." + MAX_POLL_MICROS);
    }
}
