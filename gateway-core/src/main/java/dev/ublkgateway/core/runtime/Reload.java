package dev.ublkgateway.core.runtime;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * How `ublk-gateway reload` (a systemd unit's ExecReload=) asks the unit's gateway to hand all its devices
 * to a successor in the same unit, through files in the run directory named after that gateway's pid:
 * <ol>
 * <li>`reload` starts the successor, which reads its configuration and says so in
 * {@code gateway-PID.prepared}, while the devices still serve;</li>
 * <li>`reload` writes {@code gateway-PID.reload}: its own pid ({@code reloader=}) and each device's new
 * {@link DeviceIdentity} ({@code NAME KEY=VALUE} lines);</li>
 * <li>the gateway takes it, checks every device (all or nothing), hands them over and answers in
 * {@code gateway-PID.reload.result} as {@link Handover.Outcome}s do;</li>
 * <li>the successor sees the devices handed over (their state files' pid 0) and re-attaches them;
 * once it serves every device, `reload` names it in
 * {@code gateway-PID.successor} (or writes {@code none} when it failed, and the gateway takes its
 * devices back, answering again).</li>
 * </ol>
 */
public final class Reload {
    /** A taken request: who asked, and each device's identity under the new configuration. */
    public record Request(long reloader, Map<String, Map<String, String>> identities) {}

    private Reload() {}

    static Path request(Path dir, long pid) {
        return dir.resolve("gateway-" + pid + ".reload");
    }

    static Path result(Path dir, long pid) {
        return dir.resolve("gateway-" + pid + ".reload.result");
    }

    static Path successor(Path dir, long pid) {
        return dir.resolve("gateway-" + pid + ".successor");
    }

    static Path prepared(Path dir, long pid) {
        return dir.resolve("gateway-" + pid + ".prepared");
    }

    /** For the successor of gateway {@code pid}: it has started and read its configuration; it waits. */
    public static void markPrepared(Path dir, long pid, long successorPid) throws IOException {
        Handover.write(dir, prepared(dir, pid), successorPid + "\n");
    }

    /** For `reload`: the successor that said it was prepared (the mark is then removed), else empty. */
    public static OptionalLong preparedSuccessor(Path dir, long pid) throws IOException {
        Optional<String> text = consume(prepared(dir, pid));
        return text.filter(t -> t.matches("\\d+")).map(t -> OptionalLong.of(Long.parseLong(t))).orElse(OptionalLong.empty());
    }

    /** Asks gateway {@code pid} to hand over its devices; stale files of an earlier request go first. */
    public static void ask(Path dir, long pid, long reloader, Map<String, Map<String, String>> identities) throws IOException {
        Files.deleteIfExists(result(dir, pid));
        Files.deleteIfExists(successor(dir, pid));
        StringBuilder sb = new StringBuilder("reloader=").append(reloader).append('\n');
        identities.forEach((name, id) -> id.forEach((k, v) ->
                sb.append(name).append(' ').append(k).append('=').append(v.replace('\n', ' ')).append('\n')));
        Handover.write(dir, request(dir, pid), sb.toString());
    }

    /** True while a request waits for the gateway to take it. */
    public static boolean pending(Path dir, long pid) {
        return Files.exists(request(dir, pid));
    }

    /** Takes back a request not taken yet; false when it was (its answer will come). */
    public static boolean withdraw(Path dir, long pid) throws IOException {
        return Files.deleteIfExists(request(dir, pid));
    }

    /** For the gateway {@code pid}: a request, taken so that it is handled once. */
    public static Optional<Request> take(Path dir, long pid) throws IOException {
        Path r = request(dir, pid);
        if (Files.notExists(r)) return Optional.empty(); // asked 4 times a second: a stat is cheap
        Optional<String> read = consume(r);
        if (read.isEmpty()) return Optional.empty();
        String text = read.get();
        long reloader = 0;
        Map<String, Map<String, String>> identities = new LinkedHashMap<>();
        for (String line : text.split("\n")) {
            if (line.startsWith("reloader=")) {
                reloader = Long.parseLong(line.substring("reloader=".length()).strip());
                continue;
            }
            int sp = line.indexOf(' '), eq = line.indexOf('=', sp + 1);
            if (sp <= 0 || eq < 0) continue;
            identities.computeIfAbsent(line.substring(0, sp), n -> new LinkedHashMap<>())
                    .put(line.substring(sp + 1, eq), line.substring(eq + 1));
        }
        return Optional.of(new Request(reloader, identities));
    }

    /** For the gateway: how the hand-over (or the taking back) ended. */
    public static void answer(Path dir, long pid, Handover.Kind kind, String message) throws IOException {
        Handover.write(dir, result(dir, pid), new Handover.Outcome(kind, message == null ? "" : message).format());
    }

    /** For `reload`: the gateway's answer once written (then removed), else empty. */
    public static Optional<Handover.Outcome> outcome(Path dir, long pid) throws IOException {
        return consume(result(dir, pid)).map(Handover.Outcome::parse);
    }

    /** For `reload`: the successor serves every device ({@code successorPid} > 0), or none could (0). */
    public static void nameSuccessor(Path dir, long pid, long successorPid) throws IOException {
        Handover.write(dir, successor(dir, pid), successorPid > 0 ? successorPid + "\n" : "none\n");
    }

    /**
     * For the gateway: the successor's pid (0: there is none, take the devices back) once `reload` said,
     * else empty.
     */
    public static OptionalLong successorOf(Path dir, long pid) throws IOException {
        return consume(successor(dir, pid)).map(t -> OptionalLong.of(t.matches("\\d+") ? Long.parseLong(t) : 0))
                .orElse(OptionalLong.empty());
    }

    /** A file's text (stripped), read once: it is removed; empty when there is none. */
    private static Optional<String> consume(Path p) throws IOException {
        String text;
        try {
            text = Files.readString(p, StandardCharsets.UTF_8).strip();
        } catch (NoSuchFileException e) {
            return Optional.empty();
        }
        Files.deleteIfExists(p);
        return Optional.of(text);
    }
}
