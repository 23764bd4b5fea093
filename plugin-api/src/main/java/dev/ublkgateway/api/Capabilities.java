package dev.ublkgateway.api;

/**
 * What a stage or target declares about itself, so the gateway can tell what a device's whole chain
 * allows. A stage declares it with {@link BlockStage#capabilities}, a target with
 * {@link Target#capabilities}; a component that declares nothing (a plugin built for API 1.3 or older)
 * gets the safe assumptions: not multi-conn safe, changes data, no volatile cache of its own. Since API 1.4.
 *
 * @param multiConnSafe  the component keeps no state per connection (or per queue) that another one could
 *                       miss: several NBD connections may share it, and a FLUSH on any of them covers writes
 *                       completed on every one. A device is served with NBD multi-conn only when its stages
 *                       and its target all say so.
 * @param data           what it does with the bytes of requests; see {@link DataAccess}
 * @param volatileCache  completed writes may sit in a cache of its own until FLUSH, so FLUSH must reach it:
 *                       the device then advertises a write cache (and FUA), and the kernel sends flushes
 */
public record Capabilities(boolean multiConnSafe, DataAccess data, boolean volatileCache) {
    /** What a component that declares nothing is taken to be: the assumptions that are always safe. */
    public static final Capabilities UNDECLARED = new Capabilities(false, DataAccess.CHANGES, false);

    /** How much of the request bytes a component touches; later values include the earlier ones. */
    public enum DataAccess {
        /** Never looks at the bytes of a write nor fills the buffer of a read (counting, delaying, refusing; a null target). */
        NONE,
        /** Looks at the bytes but leaves them as they are (a checksum). */
        READS,
        /** Rewrites the bytes (a cipher), or stores writes and fills reads (a target that keeps data). */
        CHANGES
    }

    public Capabilities {
        if (data == null) throw new IllegalArgumentException("data access is required (NONE, READS or CHANGES)");
    }

    /** A component that keeps no state of its own, never touches data and has no cache (a counter). */
    public static Capabilities passThrough() {
        return new Capabilities(true, DataAccess.NONE, false);
    }

    public Capabilities withMultiConnSafe(boolean safe) {
        return new Capabilities(safe, data, volatileCache);
    }

    public Capabilities withData(DataAccess access) {
        return new Capabilities(multiConnSafe, access, volatileCache);
    }

    public Capabilities withVolatileCache(boolean cache) {
        return new Capabilities(multiConnSafe, data, cache);
    }

    /** True unless the component never touches the bytes. */
    public boolean needsData() {
        return data != DataAccess.NONE;
    }

    /** True when what it passes on or returns may differ from what it got. */
    public boolean changesData() {
        return data == DataAccess.CHANGES;
    }

    /**
     * Two components in one chain, seen as one: multi-conn safe only when both are, touching data as much
     * as the more demanding one, with a volatile cache when either has one.
     */
    public Capabilities and(Capabilities other) {
        DataAccess d = data.compareTo(other.data) >= 0 ? data : other.data;
        return new Capabilities(multiConnSafe && other.multiConnSafe, d, volatileCache || other.volatileCache);
    }
}
