package dev.ublkgateway.core.runtime;

import dev.ublkgateway.core.config.ConfigException;
import dev.ublkgateway.core.config.DeviceConfig;
import dev.ublkgateway.core.config.NbdTlsConfig;
import dev.ublkgateway.core.frontend.nbd.NbdTls;
import dev.ublkgateway.core.tls.ServerCredentials;
import dev.ublkgateway.core.tls.TestCredentials;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** tls:, tls-certificates:, tls-verify-peer: and tls-psk: in YAML: what they become, and each mistake's message. */
class NbdTlsConfigTest {
    @TempDir
    Path tmp;

    private Path pki() throws Exception {
        Path d = tmp.resolve("pki");
        TestCredentials.serverDir(d, "EC");
        return d;
    }

    private static String error(String extra) {
        String m = assertThrows(ConfigException.class, () -> NbdConfigTest.device(extra)).getMessage();
        assertFalse(m.contains("\n"), m);
        assertTrue(m.startsWith("t.yaml:"), m);
        return m;
    }

    @Test
    void defaultsToOff() {
        assertEquals(NbdTlsConfig.OFF, NbdConfigTest.device("").frontend().tls());
        assertEquals(NbdTls.OFF, NbdService.tls(List.of(NbdConfigTest.device(""))));
    }

    @Test
    void readsModesAndCertificates() throws Exception {
        Path d = pki();
        DeviceConfig dev = NbdConfigTest.device("    tls: require\n    tls-certificates: " + d + "\n");
        assertEquals(new NbdTlsConfig("require", d, false), dev.frontend().tls());
        assertEquals(NbdTls.Mode.REQUIRE, NbdService.tls(List.of(dev)).mode());
        assertEquals("on", NbdConfigTest.device("    tls: on\n    tls-certificates: " + d + "\n").frontend().tls().tls());
        assertEquals("off", NbdConfigTest.device("    tls: off\n").frontend().tls().tls());
    }

    @Test
    void verifyPeerNeedsCaCert() throws Exception {
        Path d = pki();
        String m = error("    tls: on\n    tls-certificates: " + d + "\n    tls-verify-peer: true\n");
        assertTrue(m.contains("ca-cert.pem does not exist"), m);
        TestCredentials.writePem(TestCredentials.keyStore("client", "EC"), d.resolve(ServerCredentials.CA), null);
        assertTrue(NbdConfigTest.device("    tls: on\n    tls-certificates: " + d + "\n    tls-verify-peer: true\n")
                .frontend().tls().tlsVerifyPeer());
    }

    @Test
    void mistakesAreOneLineWithTheFix() throws Exception {
        assertTrue(error("    tls: maybe\n").contains("tls \"maybe\" is not known; use off, on"));
        String m = error("    tls: on\n");
        assertTrue(m.contains("tls: on needs credentials; add tls-certificates: DIR"), m);
        m = error("    tls: require\n    tls-certificates: " + tmp.resolve("none") + "\n");
        assertTrue(m.contains("none does not exist; create it holding server-cert.pem and server-key.pem"), m);
        Path d = pki();
        Files.writeString(d.resolve(ServerCredentials.KEY), "not a key\n");
        m = error("    tls: require\n    tls-certificates: " + d + "\n");
        assertTrue(m.contains("server-key.pem holds no -----BEGIN PRIVATE KEY----- block"), m);
        m = error("    tls-certificates: " + d + "\n");
        assertTrue(m.contains("tls-certificates is set but tls is off"), m);
        m = error("    tls: on\n    tls-psk: " + tmp.resolve("no.psk") + "\n");
        assertTrue(m.contains("tls-psk file " + tmp.resolve("no.psk") + " does not exist"), m);
        Path psk = tmp.resolve("k.psk");
        Files.writeString(psk, "alice:0011\n");
        m = error("    tls: on\n    tls-psk: " + psk + "\n");
        assertTrue(m.contains("line 1: the key of alice is 2 bytes"), m);
        m = error("    tls: on\n    tls-psk: " + psk + "\n    tls-certificates: " + d + "\n");
        assertTrue(m.contains("tls-psk and tls-certificates are both set; use one"), m);
    }

    @Test
    void readsPreSharedKeys() throws Exception {
        Path psk = tmp.resolve("k.psk");
        Files.writeString(psk, "alice:00112233445566778899aabbccddeeff\n");
        DeviceConfig dev = NbdConfigTest.device("    tls: require\n    tls-psk: " + psk + "\n");
        assertEquals(new NbdTlsConfig("require", null, false, psk), dev.frontend().tls());
        NbdTls tls = NbdService.tls(List.of(dev));
        assertEquals(NbdTls.Mode.REQUIRE, tls.mode());
        assertNull(tls.credentials());
        assertEquals(16, tls.pskKeys().get("alice").length);
    }

    @Test
    void devicesOfOneServerMustAgree() throws Exception {
        Path d = pki();
        DeviceConfig a = NbdConfigTest.device("    tls: require\n    tls-certificates: " + d + "\n");
        DeviceConfig b = NbdConfigTest.device("");
        String m = assertThrows(IllegalArgumentException.class, () -> NbdService.tls(List.of(a, b))).getMessage();
        assertTrue(m.contains("different TLS settings"), m);
    }
}
