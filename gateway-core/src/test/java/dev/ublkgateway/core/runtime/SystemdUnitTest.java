package dev.ublkgateway.core.runtime;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;

class SystemdUnitTest {
    @Test
    void aServiceProcessIsInItsUnit() {
        assertEquals(Optional.of("ublk-gateway@data.service"), SystemdUnit.parse("0::/system.slice/ublk-gateway@data.service\n"));
        assertEquals(Optional.of("ublk-gateway@data.service"), SystemdUnit.parse(
                "12:memory:/system.slice/ublk-gateway@data.service\n1:name=systemd:/system.slice/ublk-gateway@data.service\n"));
        assertEquals(Optional.of("gw.service"),
                SystemdUnit.parse("0::/user.slice/user-1000.slice/user@1000.service/app.slice/gw.service\n"));
    }

    @Test
    void aShellsChildIsInNoService() {
        assertEquals(Optional.empty(), SystemdUnit.parse("0::/user.slice/user-1000.slice/session-3.scope\n"));
        assertEquals(Optional.empty(), SystemdUnit.parse(
                "0::/user.slice/user-1000.slice/user@1000.service/app.slice/app-org.gnome.Terminal.slice/vte-spawn-1.scope\n"));
        assertEquals(Optional.empty(), SystemdUnit.parse("0::/\n"));
        assertEquals(Optional.empty(), SystemdUnit.parse(""));
    }

    @Test
    void aProcessThatIsGoneIsInNoService(@TempDir Path dir) throws Exception {
        assertEquals(Optional.empty(), SystemdUnit.serviceOf(dir.resolve("missing")));
        Files.writeString(dir.resolve("cgroup"), "0::/system.slice/ublk-gateway@x.service\n");
        assertEquals(Optional.of("ublk-gateway@x.service"), SystemdUnit.serviceOf(dir.resolve("cgroup")));
        assertEquals("ublk-gateway@x", SystemdUnit.shortName("ublk-gateway@x.service"));
    }
}
