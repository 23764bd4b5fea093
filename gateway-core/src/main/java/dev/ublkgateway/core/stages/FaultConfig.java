package dev.ublkgateway.core.stages;

import dev.ublkgateway.api.BlockOp;
import dev.ublkgateway.api.ConfigOption;
import dev.ublkgateway.api.Size;
import dev.ublkgateway.api.Errno;

import java.util.List;

/**
 * @param ops         which requests: read, write, flush, discard, write-zeroes (default: all)
 * @param from        start of the affected byte range (default 0)
 * @param to          end of the affected byte range, exclusive (default: the device end)
 * @param error       errno name to fail with, e.g. EIO (default) or ENOSPC; "none" to only delay
 * @param probability chance that a matching request is affected, 0..1 (default 1)
 * @param delayUs     delay before answering or passing on, in microseconds (default 0)
 * @param after       let this many matching requests through first (default 0)
 */
public record FaultConfig(
        @ConfigOption(description = "which requests: read, write, flush, discard, write-zeroes", defaultValue = "all")
        List<String> ops,
        @ConfigOption(description = "start of the affected byte range", defaultValue = "0") String from,
        @ConfigOption(description = "end of the affected byte range, exclusive", defaultValue = "the device end") String to,
        @ConfigOption(description = "errno name to fail with, e.g. ENOSPC; none to only delay", defaultValue = "EIO") String error,
        @ConfigOption(description = "chance that a matching request is affected, 0..1", defaultValue = "1") Double probability,
        @ConfigOption(description = "hold matching requests this long before failing or passing them on (the queue "
                + "keeps serving others)", defaultValue = "0") long delayUs,
        @ConfigOption(description = "let this many matching requests through first", defaultValue = "0") long after) {
    private static final List<String> OP_NAMES = List.of("read", "write", "flush", "discard", "write-zeroes");

    public FaultConfig {
        if (ops == null || ops.isEmpty()) ops = OP_NAMES;
        for (String op : ops) {
            if (!OP_NAMES.contains(op)) {
                throw new IllegalArgumentException("ops \"" + op + "\" is not an operation; use " + String.join(", ", OP_NAMES));
            }
        }
        if (from != null) size("from", from);
        if (to != null) size("to", to);
        if (error == null) error = "EIO";
        if (!error.equals("none") && Errno.byName(error) <= 0) {
            throw new IllegalArgumentException("error \"" + error + "\" is not an errno name; use e.g. EIO, ENOSPC, EROFS, EPERM, or none");
        }
        if (probability == null) probability = 1.0;
        if (probability < 0 || probability > 1) {
            throw new IllegalArgumentException("probability " + probability + " is out of range; use 0..1");
        }
        if (delayUs < 0) throw new IllegalArgumentException("delay-us " + delayUs + " is negative");
        if (after < 0) throw new IllegalArgumentException("after " + after + " is negative");
        if (error.equals("none") && delayUs == 0) {
            throw new IllegalArgumentException("error is none and delay-us is 0: this fault does nothing; set one of them");
        }
    }

    private static long size(String key, String v) {
        try {
            return Size.parse(v).bytes();
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(key + " " + e.getMessage());
        }
    }

    int opMask() {
        int m = 0;
        for (String op : ops) {
            m |= 1 << switch (op) {
                case "read" -> BlockOp.READ;
                case "write" -> BlockOp.WRITE;
                case "flush" -> BlockOp.FLUSH;
                case "discard" -> BlockOp.DISCARD;
                default -> BlockOp.WRITE_ZEROES;
            };
        }
        return m;
    }

    long fromBytes() {
        return from == null ? 0 : Size.parse(from).bytes();
    }

    long toBytes(long deviceSize) {
        return to == null ? deviceSize : Size.parse(to).bytes();
    }

    int errno() {
        return error.equals("none") ? 0 : Errno.byName(error);
    }
}
