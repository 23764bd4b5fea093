package dev.ublkgateway.core.frontend.nbd;

import dev.ublkgateway.core.config.ComponentTypes;
import dev.ublkgateway.core.config.ConfigException;
import dev.ublkgateway.core.config.ConfigLoader;
import dev.ublkgateway.core.config.DeviceConfig;
import dev.ublkgateway.core.config.FrontendConfig;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** frontend:, nbd-listen: and nbd-max-connections: in YAML, and the listen address syntax. */
class NbdConfigTest {
    static DeviceConfig device(String extra) {
        String yaml = "devices:\n  - name: d0\n    size: 1MiB\n" + extra + "    target: {type: memory}\n";
        return ConfigLoader.parse(yaml, "t.yaml", ComponentTypes.builtIn()).devices().getFirst();
    }

    @Test
    void defaultsToAuto() {
        assertEquals(FrontendConfig.DEFAULT, device("").frontend());
    }

    @Test
    void readsPollTimeIntoTheUblkSpec() {
        DeviceConfig d = device("    poll-us: 200\n");
        assertEquals(200, d.frontend().pollMicros());
        assertEquals(200, dev.ublkgateway.core.runtime.Gateway.spec(d).pollMicros());
        assertEquals(0, dev.ublkgateway.core.runtime.Gateway.spec(device("")).pollMicros());
    }

    @Test
    void readsFrontendAndListenOptions() {
        DeviceConfig d = device("    frontend: nbd\n    nbd-listen: [\"unix:/tmp/x.sock\", \"0.0.0.0:10900\"]\n"
                + "    nbd-max-connections: 8\n");
        assertEquals(new FrontendConfig("nbd", List.of("unix:/tmp/x.sock", "0.0.0.0:10900"), 8, 0), d.frontend());
        assertEquals("nbd", NbdFrontend.frontendOf(d, null));
        assertEquals("ublk", NbdFrontend.frontendOf(d, "ublk"));
        assertEquals(List.of(ListenAddress.parse("/tmp/x.sock"), ListenAddress.parse("0.0.0.0:10900")),
                NbdFrontend.listenAddresses(List.of(d), List.of(), Path.of("/run/x")));
        assertEquals("nbd://127.0.0.1:10900/d0", ListenAddress.parse("0.0.0.0:10900").uri("d0"));
        DeviceConfig single = device("    nbd-listen: 127.0.0.1:10901\n");
        assertEquals(List.of("127.0.0.1:10901"), single.frontend().nbdListen());
    }

    @Test
    void defaultListenAddresses() {
        List<ListenAddress> a = NbdFrontend.listenAddresses(List.of(device("")), List.of(), Path.of("/run/gw"));
        assertEquals(List.of(ListenAddress.parse("unix:/run/gw/nbd.sock"), ListenAddress.parse("127.0.0.1:10809")), a);
        assertEquals("nbd+unix:///d0?socket=/run/gw/nbd.sock", a.get(0).uri("d0"));
        assertEquals("nbd://127.0.0.1/d0", a.get(1).uri("d0"));
    }

    @Test
    void badValuesNameTheLine() {
        ConfigException e = assertThrows(ConfigException.class, () -> device("    frontend: nbdd\n"));
        assertTrue(e.getMessage().contains("t.yaml:4") && e.getMessage().contains("ublk, nbd or auto"), e.getMessage());
        e = assertThrows(ConfigException.class, () -> device("    nbd-listen: \"host:99999\"\n"));
        assertTrue(e.getMessage().contains("port") && e.getMessage().contains("t.yaml:4"), e.getMessage());
        e = assertThrows(ConfigException.class, () -> device("    nbd-max-connections: 0\n"));
        assertTrue(e.getMessage().contains("nbd-max-connections"), e.getMessage());
    }

    @Test
    void listenAddressSyntax() {
        assertEquals(new ListenAddress(null, "::1", 10809), ListenAddress.parse("[::1]"));
        assertEquals(new ListenAddress(null, "0.0.0.0", 7000), ListenAddress.parse(":7000"));
        assertEquals(new ListenAddress("/a/b.sock", null, 0), ListenAddress.parse("unix:/a/b.sock"));
        assertEquals("nbd://[::1]:7000/x", ListenAddress.parse("[::1]:7000").uri("x"));
        assertThrows(IllegalArgumentException.class, () -> ListenAddress.parse("::1:80"));
        assertThrows(IllegalArgumentException.class, () -> ListenAddress.parse("h:x"));
    }

    @Test
    void multiConnOnlyForCoherentChains() {
        assertTrue(NbdFrontend.multiConnSafe(device("")));
        DeviceConfig d = device("");
        DeviceConfig chunked = new DeviceConfig("c", d.sizeBytes(), d.blockSize(), 1, 8, d.maxIoBytes(), false,
                new dev.ublkgateway.core.config.ComponentSpec(dev.ublkgateway.core.config.ComponentSpec.TARGET, "chunked",
                        com.fasterxml.jackson.databind.node.JsonNodeFactory.instance.objectNode(), 1, 1));
        assertFalse(NbdFrontend.multiConnSafe(chunked), "a target with its own cache per connection is not coherent");
    }
}
