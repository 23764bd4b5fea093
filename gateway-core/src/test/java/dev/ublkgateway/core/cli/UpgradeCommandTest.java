package dev.ublkgateway.core.cli;

import dev.ublkgateway.core.frontend.ublk.UblkException;
import dev.ublkgateway.core.runtime.DeviceState;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

class UpgradeCommandTest {
    private static final long ME = ProcessHandle.current().pid();

    private static DeviceState state(long pid, boolean recovery, String blockDevice) {
        return new DeviceState("v", 3, pid, "/etc/ublk/v.yaml", recovery, blockDevice, "file /d/v.img", 1 << 30, 1);
    }

    @Test
    void aDeviceWithoutRecoveryIsRefusedWithTheFix() {
        UblkException e = assertThrows(UblkException.class,
                () -> UpgradeCommand.refuseUnsuitable(state(ME, false, "/dev/ublkb3")));
        assertEquals("device v was not created with recovery: true, so it cannot outlive its gateway; set recovery: true in "
                + "/etc/ublk/v.yaml and re-create it (`ublk-gateway down v`, `ublk-gateway up /etc/ublk/v.yaml`)", e.getMessage());
    }

    @Test
    void aDeviceWithoutGatewayPointsToRecover() {
        UblkException e = assertThrows(UblkException.class, () -> UpgradeCommand.refuseUnsuitable(state(0, true, "/dev/ublkb3")));
        assertEquals("no gateway serves v; run `ublk-gateway recover v`", e.getMessage());
    }

    @Test
    void nbdDevicesAreRefused() {
        UblkException e = assertThrows(UblkException.class, () -> UpgradeCommand.refuseUnsuitable(
                new DeviceState("v", -1, ME, "/etc/ublk/v.yaml", true, "nbd+unix:///v", "memory", 1 << 30, 1)));
        assertTrue(e.getMessage().startsWith("v is served over NBD; a live upgrade hands over ublk devices"), e.getMessage());
    }

    @Test
    void aGatewayOfASystemdUnitIsRefusedWithTheWayOut() throws Exception {
        UblkException e = assertThrows(UblkException.class, () -> UpgradeCommand.refuseInUnit(state(ME, true, "/dev/ublkb3"),
                java.util.Optional.of("ublk-gateway@data.service")));
        assertEquals("v is served by gateway pid " + ME + " of systemd's ublk-gateway@data.service, and the new gateway "
                + "would run outside it (the unit ends with the old gateway; `systemctl stop ublk-gateway@data` would no "
                + "longer stop the device): `systemctl reload ublk-gateway@data` upgrades it inside the unit "
                + "(--outside-unit upgrades it anyway)", e.getMessage());
        UpgradeCommand.refuseInUnit(state(ME, true, "/dev/ublkb3"), java.util.Optional.empty());
    }

    @Test
    void aServedRecoverableDevicePasses() throws Exception {
        UpgradeCommand.refuseUnsuitable(state(ME, true, "/dev/ublkb3"));
    }

    @Test
    void busyDevicesAreNamedByTheirMounts(@TempDir Path root) throws Exception {
        Path proc = root.resolve("proc"), sys = root.resolve("sys");
        Files.createDirectories(proc.resolve("self"));
        Files.createDirectories(sys.resolve("block/ublkb3/ublkb3p1/holders"));
        Files.createDirectories(sys.resolve("block/ublkb3/holders"));
        Files.writeString(sys.resolve("block/ublkb3/dev"), "259:0\n");
        Files.writeString(sys.resolve("block/ublkb3/ublkb3p1/dev"), "259:1\n");
        Files.writeString(proc.resolve("self/mountinfo"), "22 1 8:1 / / rw - ext4 /dev/sda1 rw\n"
                + "40 22 259:1 / /mnt/my\\040data rw - ext4 /dev/ublkb3p1 rw\n");
        assertEquals("mounted at /mnt/my data", BlockUsers.describe("/dev/ublkb3", proc, sys));
        Files.writeString(proc.resolve("self/mountinfo"), "22 1 8:1 / / rw - ext4 /dev/sda1 rw\n");
        Files.createDirectories(sys.resolve("block/ublkb3/holders/dm-0"));
        assertEquals("in use by dm-0", BlockUsers.describe("/dev/ublkb3", proc, sys));
        Files.delete(sys.resolve("block/ublkb3/holders/dm-0"));
        assertEquals("open by another process (see `fuser -vm /dev/ublkb3`)", BlockUsers.describe("/dev/ublkb3", proc, sys));
    }
}
