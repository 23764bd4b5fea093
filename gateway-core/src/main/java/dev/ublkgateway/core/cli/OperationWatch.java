package dev.ublkgateway.core.cli;

import dev.ublkgateway.core.runtime.OperationProgress;
import dev.ublkgateway.core.runtime.ProgressFile;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * Follows the long operations that gateways publish for some devices ({@link ProgressFile}) and shows each
 * running one through a {@link Progress} of its own; remembers how each ended.
 */
final class OperationWatch {
    /** One operation of one device, as last read. */
    record Seen(String device, OperationProgress op) {
        String key() {
            return device + "/" + op.operation() + "/" + op.startedAt();
        }
    }

    private final Path runDir;
    private final Predicate<OperationProgress> which;
    private final Function<String, Progress> display;
    private final Map<String, Seen> seen = new LinkedHashMap<>();
    private final Map<String, Progress> shown = new LinkedHashMap<>();

    /**
     * @param which   the operations to follow (e.g. flushes started after a moment)
     * @param display a progress display for a label such as "vol0: flushing", or null for none
     */
    OperationWatch(Path runDir, Predicate<OperationProgress> which, Function<String, Progress> display) {
        this.runDir = runDir;
        this.which = which;
        this.display = display;
    }

    /** "vol0: flushing", "vol0: recovering": what a device is doing, for a progress line. */
    static String label(String device, String operation) {
        return device + ": " + switch (operation) {
            case "flush" -> "flushing";
            case "recovery" -> "recovering";
            case "cache-drain" -> "draining the cache";
            case "discard" -> "discarding";
            default -> operation;
        };
    }

    /** Reads the devices' files once and shows what runs; true when anything changed since the last poll. */
    boolean poll(List<String> devices) {
        boolean changed = false;
        for (String d : devices) {
            ProgressFile f = ProgressFile.read(runDir, d).orElse(null);
            if (f == null) continue;
            for (OperationProgress op : f.operations()) {
                if (!which.test(op)) continue;
                Seen now = new Seen(d, op);
                Seen before = seen.put(now.key(), now);
                if (now.equals(before)) continue;
                changed = true;
                if (op.running()) {
                    Progress p = shown.computeIfAbsent(now.key(), k -> display.apply(label(d, op.operation())));
                    if (p != null) p.left(op.total(), op.left()); // null: the caller shows them its own way
                }
            }
        }
        return changed;
    }

    /** Every operation seen, as last read, in the order first seen. */
    List<Seen> seen() {
        return List.copyOf(seen.values());
    }

    /** Bytes left over the operations still running, and whether any is. */
    long left() {
        return seen.values().stream().filter(s -> s.op().running()).mapToLong(s -> s.op().left()).sum();
    }

    /** The failure messages of the operations that failed. */
    List<String> failures() {
        List<String> out = new ArrayList<>();
        for (Seen s : seen.values()) {
            if (OperationProgress.FAILED.equals(s.op().state())) out.add(s.op().failure());
        }
        return out;
    }

    /** Ends the display of every operation shown, each with how it ended. */
    void finishAll() {
        for (Map.Entry<String, Progress> e : shown.entrySet()) {
            Seen s = seen.get(e.getKey());
            String how = switch (s.op().state()) {
                case OperationProgress.DONE -> "done";
                case OperationProgress.FAILED -> "failed: " + s.op().failure();
                default -> "stopped";
            };
            e.getValue().finish(s.device() + ": " + s.op().operation() + " " + how);
        }
        shown.clear();
    }
}
