package dev.ublkgateway.core.runtime;

/**
 * What a running gateway records about each device it serves, so that `down`, `list`, `stats` and
 * `recover` from another process can find it. {@code sizeBytes} and {@code queues} are 0 in the state
 * files of older gateways.
 */
public record DeviceState(String name, int devId, long pid, String config, boolean recovery, String blockDevice,
                          String target, long sizeBytes, int queues) {
    /** True for a device served over NBD (its state names an NBD URI instead of a ublk device). */
    public boolean servedOverNbd() {
        return devId < 0 || blockDevice != null && blockDevice.startsWith("nbd");
    }

    /** The same device served by {@code newPid} (0: by no process, as after a hand-over). */
    public DeviceState withPid(long newPid) {
        return new DeviceState(name, devId, newPid, config, recovery, blockDevice, target, sizeBytes, queues);
    }
}
