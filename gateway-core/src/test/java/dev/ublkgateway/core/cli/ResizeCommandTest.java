package dev.ublkgateway.core.cli;

import dev.ublkgateway.core.config.ConfigLoader;
import dev.ublkgateway.core.config.GatewayConfig;
import dev.ublkgateway.core.frontend.nbd.Tools;
import dev.ublkgateway.core.plugins.PluginHost;
import dev.ublkgateway.core.runtime.ChainFactory;
import dev.ublkgateway.core.runtime.ControlSocket;
import dev.ublkgateway.core.runtime.DeviceState;
import dev.ublkgateway.core.runtime.Gateway;
import dev.ublkgateway.core.runtime.RunDir;
import dev.ublkgateway.core.runtime.StateStore;
import dev.ublkgateway.core.sys.Caller;
import dev.ublkgateway.core.testing.ConsoleCapture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/** `resize`: its one-line errors, and a real gateway serving over NBD resized through its control socket. */
class ResizeCommandTest {
    @TempDir
    Path dir;
    @RegisterExtension
    final ConsoleCapture console = new ConsoleCapture();
    private AutoCloseable identity;
    private StateStore states;

    @BeforeEach
    void setUp() throws Exception {
        Path run = Files.createDirectories(dir.resolve("run"));
        // NBD devices need no root: act as the current user with this run directory
        identity = Caller.simulate(dev.ublkgateway.core.sys.Libc.geteuid(), Map.of(RunDir.ENV, run.toString()));
        states = new StateStore(run);
    }

    @AfterEach
    void tearDown() throws Exception {
        identity.close();
    }

    private void nbdState(String name, long pid) throws Exception {
        states.save(new DeviceState(name, -1, pid, "x.yaml", false, "nbd+unix:///" + name, "memory", 1 << 20, 1));
    }

    @Test
    void aBadSizeIsOneLine() {
        assertEquals(1, Main.run("resize", "d", "10Gb"));
        assertEquals("ublk-gateway: \"10Gb\" is not a size; use an integer with B, KiB, MiB, GiB or TiB, e.g. 10GiB", console.errLine());
        console.reset();
        assertEquals(1, Main.run("resize", "d", "0"));
        assertEquals("ublk-gateway: size 0 is not positive; e.g. 20GiB", console.errLine());
        console.reset();
        assertEquals(2, Main.run("resize", "d"), "SIZE is required");
    }

    @Test
    void anUnknownOrDeadOrUnreachableDeviceIsOneLineWithTheFix() throws Exception {
        assertEquals(1, Main.run("resize", "nope", "1GiB"));
        assertEquals("ublk-gateway: no device named nope is up; see `ublk-gateway list`", console.errLine());

        console.reset();
        nbdState("dead", Integer.MAX_VALUE - 1);
        assertEquals(1, Main.run("resize", "dead", "1GiB"));
        assertTrue(console.errLine().matches("ublk-gateway: device dead has no running gateway \\(pid \\d+ is gone\\); run `ublk-gateway "
                + "recover dead` first"), console.err());

        console.reset();
        nbdState("old", ProcessHandle.current().pid());
        assertEquals(1, Main.run("resize", "old", "1GiB"));
        assertTrue(console.errLine().contains("has no control socket " + states.controlSocket("old") + "; it is older than resize"),
                console.err());

        console.reset();
        try (ControlSocket s = ControlSocket.listen(states.controlSocket("old"), r -> {
            throw new java.io.IOException("refused: " + r);
        })) {
            assertEquals(1, Main.run("resize", "old", "2MiB", "--shrink"));
            assertEquals("ublk-gateway: old: refused: resize 2097152 shrink", console.errLine());
        }
    }

    @Test
    void aGatewayServingOverNbdGrowsForNewConnections() throws Exception {
        Tools.require("nbdcopy", "nbdinfo");
        Files.createDirectories(dir.resolve("plugins"));
        ChainFactory chains = new ChainFactory(PluginHost.load(dir.resolve("plugins")));
        Path sock = dir.resolve("nbd.sock");
        Path yaml = dir.resolve("r.yaml");
        GatewayConfig config = ConfigLoader.parse("""
                devices:
                  - name: rz0
                    size: 4MiB
                    frontend: nbd
                    nbd-listen: unix:%s
                    target: {type: memory}
                """.formatted(sock), yaml.toString(), chains.componentTypes());
        Gateway gateway = new Gateway(states, chains);
        String uri = "nbd+unix:///rz0?socket=" + sock;
        try {
            gateway.up(config);
            byte[] first = new byte[4 << 20];
            new Random(1).nextBytes(first);
            Files.write(dir.resolve("first.img"), first);
            Tools.ok("nbdcopy", dir.resolve("first.img").toString(), uri);

            assertEquals(0, Main.run("resize", "rz0", "12MiB"), console.err());
            assertEquals("rz0: resized from 4 MiB to 12 MiB; set size: 12MiB in " + yaml + " for the next up", console.out().strip());
            assertEquals(12L << 20, states.load("rz0").orElseThrow().sizeBytes(), "the state file (and so `list`) has the new size");
            assertEquals(String.valueOf(12L << 20), Tools.ok("nbdinfo", "--size", uri).strip());

            Tools.ok("nbdcopy", uri, dir.resolve("back.img").toString());
            byte[] expect = new byte[12 << 20];
            System.arraycopy(first, 0, expect, 0, first.length);
            assertArrayEquals(expect, Files.readAllBytes(dir.resolve("back.img")), "the old data, then zeros");
            byte[] all = new byte[12 << 20];
            new Random(2).nextBytes(all);
            Files.write(dir.resolve("all.img"), all);
            Tools.ok("nbdcopy", dir.resolve("all.img").toString(), uri);
            Tools.ok("nbdcopy", uri, dir.resolve("back.img").toString());
            assertArrayEquals(all, Files.readAllBytes(dir.resolve("back.img")), "the new range is written and read");

            console.reset();
            assertEquals(1, Main.run("resize", "rz0", "8MiB"));
            assertTrue(console.errLine().startsWith("ublk-gateway: rz0: shrinking rz0 from 12 MiB to 8 MiB discards the data beyond the "
                    + "new end; shrink the file system first, then pass --shrink"), console.err());
            console.reset();
            assertEquals(1, Main.run("resize", "rz0", "8MiB", "--shrink"));
            assertTrue(console.errLine().contains("served over NBD, whose clients cannot be told that it shrank"), console.err());
            console.reset();
            assertEquals("error size 12582913 is not a positive multiple of the device's block size 4096",
                    ControlSocket.request(states.controlSocket("rz0"), "resize 12582913"));
            assertTrue(ControlSocket.request(states.controlSocket("rz0"), "grow").startsWith("error unknown request \"grow\""));
            assertEquals("ok rz0: already 12 MiB", ControlSocket.request(states.controlSocket("rz0"), "resize 12582912"));
        } finally {
            gateway.stopAll();
        }
        assertFalse(Files.exists(states.controlSocket("rz0")), "the control socket goes with the gateway");
    }
}
