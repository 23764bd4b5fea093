package dev.ublkgateway.core.config;

import dev.ublkgateway.api.ConfigOption;

import java.nio.file.Path;
import java.util.List;
import java.util.Objects;

/**
 * TLS on a device's NBD frontend: its components are the device's YAML keys of the same names (and
 * the man page's list of them).
 */
public record NbdTlsConfig(
        @ConfigOption(defaultValue = "off", description = "off: no TLS (NBD_OPT_STARTTLS is refused); on: clients "
                + "choose TLS or plain; require: TLS only, every option before STARTTLS is refused") String tls,
        @ConfigOption(path = true, description = "directory with server-cert.pem and server-key.pem (PEM; RSA or EC) "
                + "and, to verify clients, ca-cert.pem, as nbdkit and qemu-nbd lay it out; needed when tls is on "
                + "or require") Path tlsCertificates,
        @ConfigOption(defaultValue = "false", description = "clients must present a certificate signed by the "
                + "directory's ca-cert.pem") boolean tlsVerifyPeer,
        @ConfigOption(path = true, description = "instead of tls-certificates: TLS 1.3 with pre-shared keys, from a "
                + "psktool file of USERNAME:HEXKEY lines (as nbdkit --tls-psk reads)") Path tlsPsk) {
    public static final List<String> MODES = List.of("off", "on", "require");
    public static final NbdTlsConfig OFF = new NbdTlsConfig("off", null, false, null);

    public NbdTlsConfig {
        Objects.requireNonNull(tls, "tls");
        if (!MODES.contains(tls)) throw new IllegalArgumentException("tls \"" + tls + "\" is not off, on or require");
        if (!tls.equals("off") && (tlsCertificates == null) == (tlsPsk == null)) {
            throw new IllegalArgumentException("tls: " + tls + " needs one of tls-certificates: DIR and tls-psk: FILE");
        }
    }

    public NbdTlsConfig(String tls, Path tlsCertificates, boolean tlsVerifyPeer) {
        this(tls, tlsCertificates, tlsVerifyPeer, null);
    }

    public boolean enabled() {
        return !tls.equals("off");
    }
}
