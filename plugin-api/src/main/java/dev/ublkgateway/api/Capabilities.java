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
 * @param zeroCopy       a target that can move a request's bytes without them passing through the gateway's
 *                       memory: given a request whose {@link BlockRequest#registeredBuffer} is set, it reads and
 *                       writes through that buffer index only and never touches {@link BlockRequest#buffer}.
 *                       The gateway offers this only when every stage before it declares
 *                       {@link DataAccess#NONE} and the kernel can lend the request's own pages. Since API 1.7.
 */
public record Capabilities(boolean multiConnSafe, DataAccess data, boolean volatileCache, boolean zeroCopy) {
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

    /** The API 1.4 form: no zero copy. */
    public Capabilities(boolean multiConnSafe, DataAccess data, boolean volatileCache) {
        this(multiConnSafe, data, volatileCache, false);
    }

    /** A component that keeps no state of its own, never touches data and has no cache (a counter). */
    public static Capabilities passThrough() {
        return new Capabilities(true, DataAccess.NONE, false, false);
    }

    public Capabilities withMultiConnSafe(boolean safe) {
        return new Capabilities(safe, data, volatileCache, zeroCopy);
    }

    public Capabilities withData(DataAccess access) {
        return new Capabilities(multiConnSafe, access, volatileCache, zeroCopy);
    }

    public Capabilities withVolatileCache(boolean cache) {
        return new Capabilities(multiConnSafe, data, cache, zeroCopy);
    }

    /** Since API 1.7; see {@link #zeroCopy}. */
    public Capabilities withZeroCopy(boolean zc) {
        return new Capabilities(multiConnSafe, data, volatileCache, zc);
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
     * as the more demanding one, with a volatile cache when either has one. Zero copy only when one of them
     * can do it and the other never touches the bytes: the data must reach it untouched.
     */
    public Capabilities and(Capabilities other) {
        DataAccess d = data.compareTo(other.data) >= 0 ? data : other.data;
        boolean zc = zeroCopy && !other.needsData() || other.zeroCopy && !needsData();
        return new Capabilities(multiConnSafe && other.multiConnSafe, d, volatileCache || other.volatileCache, zc);
    }
}
