package dev.ublkgateway.core.runtime;

import dev.ublkgateway.api.Target;
import dev.ublkgateway.core.chain.DeviceChain;
import dev.ublkgateway.core.config.ComponentTypes;
import dev.ublkgateway.core.config.ConfigException;
import dev.ublkgateway.core.config.ConfigLoader;
import dev.ublkgateway.core.config.DeviceConfig;
import dev.ublkgateway.core.config.FrontendConfig;
import dev.ublkgateway.core.frontend.nbd.ListenAddress;
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
        assertEquals(200, Gateway.spec(d).pollMicros());
        assertEquals(0, Gateway.spec(device("")).pollMicros());
    }

    @Test
    void readsZeroCopyIntoTheUblkSpec() {
        assertTrue(Gateway.spec(device("")).zeroCopy(), "zero copy where possible by default");
        DeviceConfig off = device("    zero-copy: false\n");
        assertFalse(off.frontend().zeroCopy());
        assertFalse(Gateway.spec(off).zeroCopy());
        assertTrue(Gateway.spec(device("    zero-copy: true\n")).zeroCopy());
    }

    @Test
    void readsBatchIoIntoTheUblkSpec() {
        assertFalse(Gateway.spec(device("")).batchIo(), "one command per request unless asked");
        DeviceConfig on = device("    batch-io: true\n");
        assertTrue(on.frontend().batchIo());
        assertTrue(Gateway.spec(on).batchIo());
        assertFalse(Gateway.spec(device("    batch-io: false\n")).batchIo());
    }

    @Test
    void readsFrontendAndListenOptions() {
        DeviceConfig d = device("    frontend: nbd\n    nbd-listen: [\"unix:/tmp/x.sock\", \"0.0.0.0:10900\"]\n"
                + "    nbd-max-connections: 8\n");
        assertEquals(new FrontendConfig("nbd", List.of("unix:/tmp/x.sock", "0.0.0.0:10900"), 8, 0), d.frontend());
        assertEquals("nbd", FrontendChoice.of(d, null));
        assertEquals("ublk", FrontendChoice.of(d, "ublk"));
        assertEquals(List.of(ListenAddress.parse("/tmp/x.sock"), ListenAddress.parse("0.0.0.0:10900")),
                NbdService.listenAddresses(List.of(d), List.of(), Path.of("/run/x")));
        assertEquals("nbd://127.0.0.1:10900/d0", ListenAddress.parse("0.0.0.0:10900").uri("d0"));
        DeviceConfig single = device("    nbd-listen: 127.0.0.1:10901\n");
        assertEquals(List.of("127.0.0.1:10901"), single.frontend().nbdListen());
    }

    @Test
    void defaultListenAddresses() {
        List<ListenAddress> a = NbdService.listenAddresses(List.of(device("")), List.of(), Path.of("/run/gw"));
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
        String hint = assertThrows(IllegalArgumentException.class, () -> ListenAddress.parse("::1:80")).getMessage();
        assertTrue(hint.contains("in brackets, e.g. [::1]:80"), hint);
        assertThrows(IllegalArgumentException.class, () -> ListenAddress.parse("h:x"));
    }

    /** A stage from a plugin: declares multi-conn safety or (built for API 1.3) nothing. */
    static dev.ublkgateway.api.BlockStage pluginStage(boolean declaresSafe) {
        return new dev.ublkgateway.api.BlockStage() {
            public dev.ublkgateway.api.StageQueue openQueue(dev.ublkgateway.api.QueueContext q) {
                return (r, next) -> next.submit(r);
            }
            public dev.ublkgateway.api.Capabilities capabilities() {
                return declaresSafe ? new dev.ublkgateway.api.Capabilities(true, dev.ublkgateway.api.Capabilities.DataAccess.CHANGES, false)
                        : dev.ublkgateway.api.BlockStage.super.capabilities();
            }
        };
    }

    @Test
    void multiConnOnlyForCoherentChains() throws Exception {
        DeviceConfig d = device("");
        Target shared = new dev.ublkgateway.core.targets.NullTarget();
        assertTrue(NbdService.export(d, new DeviceChain(List.of(), shared)).multiConn());
        assertTrue(NbdService.export(d, new DeviceChain(List.of(new dev.ublkgateway.core.stages.ReadOnlyStage(true)), shared))
                .multiConn());
        assertTrue(NbdService.export(d, new DeviceChain(List.of(pluginStage(true)), shared)).multiConn(),
                "a plugin stage that declares multi-conn safety gets multi-conn");
        assertFalse(NbdService.export(d, new DeviceChain(List.of(pluginStage(false)), shared)).multiConn(),
                "one that declares nothing does not");
        Target perConnectionCache = new Target() { // a target that declares nothing
            public dev.ublkgateway.api.TargetQueue openQueue(dev.ublkgateway.api.QueueContext q) { return r -> 0; }
            public boolean volatileCache() { return true; }
            public void close() {}
        };
        assertFalse(NbdService.export(d, new DeviceChain(List.of(), perConnectionCache)).multiConn(),
                "a target with its own cache per connection is not coherent");
        assertTrue(NbdService.export(d, new DeviceChain(List.of(), perConnectionCache)).target().volatileCache());
    }
}
