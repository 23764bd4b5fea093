package dev.ublkgateway.core.config;

import java.nio.file.Path;
import java.util.List;
import java.util.Objects;

/**
 * TLS on a device's NBD frontend.
 *
 * @param mode         {@code off}: no TLS (NBD_OPT_STARTTLS is refused); {@code on}: clients may start
 *                     TLS or stay plain; {@code require}: nothing but STARTTLS before TLS
 * @param certificates the directory with server-cert.pem, server-key.pem and optionally ca-cert.pem;
 *                     null when {@code mode} is off
 * @param verifyPeer   clients must present a certificate signed by ca-cert.pem
 */
public record NbdTlsConfig(String mode, Path certificates, boolean verifyPeer) {
    public static final List<String> MODES = List.of("off", "on", "require");
    public static final NbdTlsConfig OFF = new NbdTlsConfig("off", null, false);

    public NbdTlsConfig {
        Objects.requireNonNull(mode, "mode");
        if (!MODES.contains(mode)) throw new IllegalArgumentException("tls \"" + mode + "\" is not off, on or require");
        if (!mode.equals("off") && certificates == null) {
            throw new IllegalArgumentException("tls: " + mode + " needs tls-certificates: DIR");
        }
    }

    public boolean enabled() {
        return !mode.equals("off");
    }
}
