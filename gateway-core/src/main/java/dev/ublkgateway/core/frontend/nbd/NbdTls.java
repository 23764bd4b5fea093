package dev.ublkgateway.core.frontend.nbd;

import dev.ublkgateway.core.tls.ServerCredentials;

import java.util.Map;
import java.util.Objects;

/**
 * The server's TLS policy (NBD_OPT_STARTTLS): {@code OFF} refuses STARTTLS; {@code ON} serves plain
 * and TLS clients alike; {@code REQUIRE} answers every option but STARTTLS and ABORT before TLS with
 * NBD_REP_ERR_TLS_REQD. TLS is X.509 ({@code credentials}) or TLS-PSK ({@code pskKeys}: user to key).
 */
public record NbdTls(Mode mode, ServerCredentials credentials, Map<String, byte[]> pskKeys) {
    public enum Mode { OFF, ON, REQUIRE }

    public static final NbdTls OFF = new NbdTls(Mode.OFF, null, null);

    public NbdTls {
        Objects.requireNonNull(mode, "mode");
        if (mode != Mode.OFF && (credentials == null) == (pskKeys == null)) {
            throw new IllegalArgumentException("TLS needs either certificates or pre-shared keys");
        }
        pskKeys = pskKeys == null ? null : Map.copyOf(pskKeys);
    }

    public NbdTls(Mode mode, ServerCredentials credentials) {
        this(mode, credentials, null);
    }

    /** From the configuration's words: off, on, require. */
    public static NbdTls of(String mode, ServerCredentials credentials, Map<String, byte[]> pskKeys) {
        return mode.equals("off") ? OFF
                : new NbdTls(Mode.valueOf(mode.toUpperCase(java.util.Locale.ROOT)), credentials, pskKeys);
    }
}
