package dev.ublkgateway.core.cli;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What a stopping gateway says about its flush, read from its log as it grows: the chunked target
 * writes "volume V: flushing, N bytes dirty left" every second while it flushes, and "volume V: ... could
 * not be stored: why" when it gives up. Only lines written after {@code offset} (when down began) count.
 */
final class FlushLog {
    static final Pattern LEFT = Pattern.compile("volume (\\S+): flushing, (\\d+) bytes dirty left");
    static final Pattern FAILED = Pattern.compile("volume \\S+: .* could not be stored: .*");
    private final Path log;
    private long offset;
    private final StringBuilder partial = new StringBuilder();
    private final Map<String, Long> left = new LinkedHashMap<>();
    private final Set<String> failures = new LinkedHashSet<>(); // the gateway may repeat a failure

    FlushLog(Path log, long offset) {
        this.log = log;
        this.offset = offset;
    }

    /** Starts at the log's current end (nothing when there is no log: a gateway in the foreground). */
    static FlushLog fromEnd(Path log) {
        long size = 0;
        try {
            size = Files.size(log);
        } catch (IOException ignored) {
            // no log: no progress to show
        }
        return new FlushLog(log, size);
    }

    /** Reads what was appended since the last call. */
    void poll() {
        if (!Files.isReadable(log)) return;
        try (RandomAccessFile f = new RandomAccessFile(log.toFile(), "r")) {
            long end = f.length();
            if (end <= offset) return;
            byte[] b = new byte[(int) Math.min(end - offset, 1 << 20)];
            f.seek(offset);
            f.readFully(b);
            offset += b.length;
            partial.append(new String(b, StandardCharsets.UTF_8));
        } catch (IOException e) {
            return;
        }
        int nl;
        while ((nl = partial.indexOf("\n")) >= 0) {
            line(partial.substring(0, nl));
            partial.delete(0, nl + 1);
        }
    }

    void line(String line) {
        Matcher m = LEFT.matcher(line);
        if (m.find()) {
            left.put(m.group(1), Long.parseLong(m.group(2)));
            return;
        }
        Matcher f = FAILED.matcher(line);
        if (f.find()) {
            failures.add(f.group());
            left.remove(line.substring(line.indexOf("volume ") + 7).split(":", 2)[0]);
        }
    }

    /** The dirty bytes left over all volumes still flushing, once any reported. */
    OptionalLong left() {
        return left.isEmpty() ? OptionalLong.empty() : OptionalLong.of(left.values().stream().mapToLong(Long::longValue).sum());
    }

    /** The volumes whose data could not be stored, each with what is left and why. */
    List<String> failures() {
        return List.copyOf(failures);
    }
}
