package dev.ublkgateway.core.frontend.nbd;

import dev.ublkgateway.core.tls.ServerCredentials;

import java.util.Objects;

/**
 * The server's TLS policy (NBD_OPT_STARTTLS): {@code OFF} refuses STARTTLS; {@code ON} serves plain
 * and TLS clients alike; {@code REQUIRE} answers every option but STARTTLS and ABORT before TLS with
 * NBD_REP_ERR_TLS_REQD.
 */
public record NbdTls(Mode mode, ServerCredentials credentials) {
    public enum Mode { OFF, ON, REQUIRE }

    public static final NbdTls OFF = new NbdTls(Mode.OFF, null);

    public NbdTls {
        Objects.requireNonNull(mode, "mode");
        if (mode != Mode.OFF) Objects.requireNonNull(credentials, "credentials");
    }

    /** From the configuration's words: off, on, require. */
    public static NbdTls of(String mode, ServerCredentials credentials) {
        return mode.equals("off") ? OFF : new NbdTls(Mode.valueOf(mode.toUpperCase(java.util.Locale.ROOT)), credentials);
    }
}
