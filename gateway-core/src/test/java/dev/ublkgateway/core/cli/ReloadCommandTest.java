package dev.ublkgateway.core.cli;

import dev.ublkgateway.core.config.ComponentTypes;
import dev.ublkgateway.core.config.ConfigLoader;
import dev.ublkgateway.core.config.GatewayConfig;
import dev.ublkgateway.core.frontend.ublk.UblkException;
import dev.ublkgateway.core.runtime.DeviceIdentity;
import dev.ublkgateway.core.runtime.DeviceState;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.*;

class ReloadCommandTest {
    private static final String FILE = "/etc/ublk-gateway/data.yaml";
    private static final Optional<String> UNIT = Optional.of("ublk-gateway@data.service");

    private static DeviceState served(String name) {
        return new DeviceState(name, 0, 4711, FILE, true, "/dev/ublkb0", "file", 1 << 20, 1);
    }

    private static GatewayConfig config(String devices) {
        return ConfigLoader.parse("devices:\n" + devices, FILE, ComponentTypes.builtIn());
    }

    private static final String A = "  - {name: a, size: 1MiB, recovery: true, frontend: ublk, target: {type: memory}}\n";
    private static final String B = "  - {name: b, size: 1MiB, recovery: true, frontend: ublk, target: {type: memory}}\n";

    @Test
    void itRunsOnlyAsTheExecReloadOfTheGatewaysUnit() throws Exception {
        assertEquals("ublk-gateway@data", ReloadCommand.checkPlace(4711, List.of(served("a")), UNIT, UNIT));
        assertEquals("`reload` runs as the ExecReload= of gateway pid 4711's unit, so that the new gateway starts there: "
                + "run `systemctl reload ublk-gateway@data`", assertThrows(UblkException.class,
                () -> ReloadCommand.checkPlace(4711, List.of(served("a")), UNIT, Optional.empty())).getMessage());
        assertEquals("gateway pid 4711 runs in no systemd unit; hand its devices to a new gateway with `ublk-gateway "
                + "upgrade NAME`", assertThrows(UblkException.class,
                () -> ReloadCommand.checkPlace(4711, List.of(served("a")), Optional.empty(), Optional.empty())).getMessage());
        assertTrue(assertThrows(UblkException.class, () -> ReloadCommand.checkPlace(4711, List.of(), UNIT, UNIT))
                .getMessage().startsWith("no device is served by pid 4711;"));
    }

    @Test
    void theNewFileKeepsTheUnitsDevices() throws Exception {
        GatewayConfig both = config(A + B);
        assertEquals(Map.of("a", DeviceIdentity.of(both.device("a").orElseThrow()),
                        "b", DeviceIdentity.of(both.device("b").orElseThrow())),
                ReloadCommand.identities(List.of(served("a"), served("b")), both, "ublk-gateway@data"));
        assertEquals("b is new in " + FILE + "; a reload keeps the unit's devices: `systemctl restart ublk-gateway@data` "
                + "to add it", assertThrows(UblkException.class, () -> ReloadCommand.identities(List.of(served("a")), both,
                "ublk-gateway@data")).getMessage());
        assertEquals("device b is no longer in " + FILE + "; a reload keeps the unit's devices: put it back, or "
                + "`systemctl restart ublk-gateway@data` to remove it", assertThrows(UblkException.class,
                () -> ReloadCommand.identities(List.of(served("a"), served("b")), config(A), "ublk-gateway@data")).getMessage());
        GatewayConfig nbd = config("  - {name: a, size: 1MiB, recovery: true, frontend: nbd, target: {type: memory}}\n");
        assertTrue(assertThrows(UblkException.class, () -> ReloadCommand.identities(List.of(served("a")), nbd,
                "ublk-gateway@data")).getMessage().startsWith("a would now be served over NBD"));
    }

    @Test
    void theSuccessorGetsTheGatewaysNotifySocketAndWatchdog(@TempDir Path tmp) throws Exception {
        Path environ = tmp.resolve("environ");
        Files.writeString(environ, "PATH=/usr/bin\0NOTIFY_SOCKET=/run/systemd/notify\0WATCHDOG_PID=4711\0"
                + "WATCHDOG_USEC=30000000\0INVOCATION_ID=abc\0");
        assertEquals(Map.of("NOTIFY_SOCKET", "/run/systemd/notify", "WATCHDOG_USEC", "30000000"),
                ReloadCommand.systemdEnvironment(environ));
        assertEquals(Map.of(), ReloadCommand.systemdEnvironment(tmp.resolve("gone")));
    }
}
