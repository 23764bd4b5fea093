package dev.ublkgateway.core.frontend.nbd;

import dev.ublkgateway.core.config.DeviceConfig;
import dev.ublkgateway.core.config.GatewayConfig;
import dev.ublkgateway.core.runtime.DeviceState;
import dev.ublkgateway.core.runtime.StateStore;

import java.util.List;

/** What the `up`, `list` and `down` commands say about NBD devices. */
public final class NbdCli {
    private NbdCli() {}

    /** One line per device: which frontend it gets and, for NBD, how to connect. */
    public static void describeChoice(GatewayConfig config, String override, List<String> listen, StateStore states) {
        for (DeviceConfig d : config.devices()) {
            String chosen = NbdFrontend.frontendOf(d, override);
            String configured = override != null ? override : d.frontend().frontend();
            String why = configured.equals("auto") ? "frontend auto: " + chosen + ", " + NbdFrontend.autoReason() : "frontend " + chosen;
            if (chosen.equals("nbd")) {
                List<String> uris = NbdFrontend.listenAddresses(List.of(d), listen, states.dir()).stream()
                        .map(a -> a.uri(d.name())).toList();
                System.out.println(d.name() + ": " + why + "; connect with " + String.join(" or ", uris)
                        + " (e.g. nbdinfo, nbdcopy, qemu-img, or nbd-client for a /dev/nbdX)");
            } else {
                System.out.println(d.name() + ": " + why);
            }
        }
    }

    /** True for a device served over NBD (its state names an NBD URI instead of a ublk device). */
    public static boolean isNbd(DeviceState s) {
        return s.devId() < 0 || s.blockDevice() != null && s.blockDevice().startsWith("nbd");
    }

    /** The `list` rows of the NBD devices: name, "nbd", state, pid, URI, target. */
    public static List<Object[]> listRows(List<DeviceState> states) {
        List<Object[]> rows = new java.util.ArrayList<>();
        for (DeviceState s : states) {
            if (!isNbd(s) || s.name() == null) continue;
            String state = StateStore.alive(s.pid()) ? "LIVE" : "gone";
            rows.add(new Object[] {s.name(), "nbd", state, s.pid(), s.blockDevice(), s.target()});
        }
        return rows;
    }
}
