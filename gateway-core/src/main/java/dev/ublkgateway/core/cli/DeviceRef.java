package dev.ublkgateway.core.cli;

import dev.ublkgateway.core.frontend.ublk.UblkException;
import dev.ublkgateway.core.runtime.DeviceState;
import dev.ublkgateway.core.runtime.StateStore;
import picocli.CommandLine.Parameters;

import java.util.Optional;

/** The device a command acts on, by name or ublk id: a picocli mixin of `down` and `recover`. */
final class DeviceRef {
    @Parameters(paramLabel = "NAME|ID")
    String text;

    /** What the device's gateway recorded, if a gateway knows it. */
    Optional<DeviceState> state(StateStore states) {
        return states.find(text);
    }

    /** True when a ublk device id was given instead of a name. */
    boolean isId() {
        return text.matches("\\d+");
    }

    /** "no device named NAME is {@code what}", pointing to `list`. */
    UblkException unknown(String what) {
        return new UblkException("no device named " + text + " is " + what + "; see `ublk-gateway list`");
    }
}
