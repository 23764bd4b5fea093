package dev.ublkgateway.core.runtime;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * The systemd service a process runs in, read from its cgroup: a command that starts a gateway to
 * replace another (upgrade) must know when the one it replaces belongs to a unit, whose main process
 * it is and which stops its devices.
 */
public final class SystemdUnit {
    private SystemdUnit() {}

    /** The service process {@code pid} runs in (e.g. "ublk-gateway@data.service"), if any. */
    public static Optional<String> serviceOf(long pid) {
        return serviceOf(Path.of("/proc", Long.toString(pid), "cgroup"));
    }

    static Optional<String> serviceOf(Path cgroupFile) {
        try {
            return parse(Files.readString(cgroupFile));
        } catch (IOException | RuntimeException e) {
            return Optional.empty(); // gone, or no /proc: nothing to say about it
        }
    }

    /**
     * From /proc/PID/cgroup: the systemd hierarchy's line (cgroup v2 "0::PATH", v1 "N:name=systemd:PATH")
     * names a service when the process sits directly in its cgroup, as ExecStart= processes do. A shell's
     * child (a session scope, an app scope under user@UID.service) is in no service.
     */
    static Optional<String> parse(String cgroup) {
        for (String line : cgroup.split("\n")) {
            String[] f = line.split(":", 3);
            if (f.length < 3 || !(f[1].isEmpty() || f[1].equals("name=systemd"))) continue;
            String last = f[2].strip().substring(f[2].strip().lastIndexOf('/') + 1);
            return last.endsWith(".service") ? Optional.of(last) : Optional.empty();
        }
        return Optional.empty();
    }

    /** The unit's name for systemctl: "ublk-gateway@data.service" is "ublk-gateway@data". */
    public static String shortName(String service) {
        return service.endsWith(".service") ? service.substring(0, service.length() - ".service".length()) : service;
    }
}
