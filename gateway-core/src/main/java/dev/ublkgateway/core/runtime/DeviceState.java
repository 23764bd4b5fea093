package dev.ublkgateway.core.runtime;

/**
 * What a running gateway records about each device it serves, so that `down`, `list` and `recover`
 * from another process can find it.
 */
public record DeviceState(String name, int devId, long pid, String config, boolean recovery, String blockDevice,
                          String target) {
    /** True for a device served over NBD (its state names an NBD URI instead of a ublk device). */
    public boolean servedOverNbd() {
        return devId < 0 || blockDevice != null && blockDevice.startsWith("nbd");
    }
}
