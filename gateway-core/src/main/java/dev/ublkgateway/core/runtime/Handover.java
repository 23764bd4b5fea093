package dev.ublkgateway.core.runtime;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * How `upgrade` asks the gateway serving a device to hand it over, through files in the run directory
 * (no signal: a JVM reserves some, and a file names the device and carries the new configuration's
 * {@link DeviceIdentity}):
 * <ol>
 * <li>`upgrade` writes {@code NAME.upgrade} (identity lines {@code key=value}) atomically;</li>
 * <li>the gateway takes it by renaming it to {@code NAME.upgrade.taken} (so a request is taken once, and
 * one never taken can be withdrawn), checks it, hands over, and writes {@code NAME.upgrade.result}:
 * {@code ok}, {@code refused MESSAGE} (nothing changed) or {@code failed MESSAGE} (the device was let go,
 * but not everything went well).</li>
 * </ol>
 */
public final class Handover {
    public enum Kind { OK, REFUSED, FAILED }

    public record Outcome(Kind kind, String message) {
        static Outcome parse(String text) {
            String line = text.strip();
            int sp = line.indexOf(' ');
            String word = sp < 0 ? line : line.substring(0, sp);
            String msg = sp < 0 ? "" : line.substring(sp + 1).strip();
            return switch (word) {
                case "ok" -> new Outcome(Kind.OK, msg);
                case "refused" -> new Outcome(Kind.REFUSED, msg);
                default -> new Outcome(Kind.FAILED, sp < 0 && !word.equals("failed") ? line : msg);
            };
        }

        String format() {
            return kind.name().toLowerCase(java.util.Locale.ROOT) + (message.isEmpty() ? "" : " " + message.replace('\n', ' ')) + "\n";
        }
    }

    private Handover() {}

    /**
     * Why the gateway serving {@code name} as {@code running} refuses a request for {@code next}: the
     * identity changes ({@link DeviceIdentity}), or the device cannot be quiesced ({@code canHandOver}
     * false: no UBLK_F_QUIESCE). Empty: hand it over.
     */
    public static Optional<String> refusal(String name, Map<String, String> running, Map<String, String> next,
                                           boolean canHandOver) {
        Optional<String> change = DeviceIdentity.change(name, running, next);
        if (change.isPresent()) return change;
        return canHandOver ? Optional.empty() : Optional.of(cannotHandOver(name));
    }

    /** Why a device without UBLK_F_QUIESCE (or recovery) is not handed over. */
    public static String cannotHandOver(String name) {
        return "device " + name + " cannot be handed over live: it lacks UBLK_F_QUIESCE (Linux 6.16 or later, device "
                + "created by this version); nothing changed: restart it with `down` and `up` instead";
    }

    static Path request(Path dir, String name) {
        return dir.resolve(name + ".upgrade");
    }

    static Path taken(Path dir, String name) {
        return dir.resolve(name + ".upgrade.taken");
    }

    static Path result(Path dir, String name) {
        return dir.resolve(name + ".upgrade.result");
    }

    /** Asks for a hand-over of {@code name}; a stale result of an earlier request goes first. */
    public static void ask(Path dir, String name, Map<String, String> identity) throws IOException {
        Files.deleteIfExists(result(dir, name));
        StringBuilder sb = new StringBuilder();
        identity.forEach((k, v) -> sb.append(k).append('=').append(v.replace('\n', ' ')).append('\n'));
        write(dir, request(dir, name), sb.toString());
    }

    /** Takes back a request the gateway has not taken yet; false when it has (its result will come). */
    public static boolean withdraw(Path dir, String name) throws IOException {
        return Files.deleteIfExists(request(dir, name));
    }

    /** For the gateway: the identity lines of a request for {@code name}, taken so that no one else takes it. */
    public static Optional<Map<String, String>> take(Path dir, String name) throws IOException {
        Path r = request(dir, name), t = taken(dir, name);
        // asked 4 times a second: a stat is much cheaper than the exception of a move that finds nothing
        if (Files.notExists(r)) return Optional.empty();
        try {
            Files.move(r, t, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (NoSuchFileException e) {
            return Optional.empty();
        }
        Map<String, String> identity = new LinkedHashMap<>();
        for (String line : Files.readAllLines(t, StandardCharsets.UTF_8)) {
            int eq = line.indexOf('=');
            if (eq > 0) identity.put(line.substring(0, eq), line.substring(eq + 1));
        }
        Files.deleteIfExists(t);
        return Optional.of(identity);
    }

    /** For the gateway: how the request ended. */
    public static void answer(Path dir, String name, Kind kind, String message) throws IOException {
        write(dir, result(dir, name), new Outcome(kind, message == null ? "" : message).format());
    }

    /** For `upgrade`: the gateway's answer once written (then removed), else empty. */
    public static Optional<Outcome> outcome(Path dir, String name) throws IOException {
        Path r = result(dir, name);
        String text;
        try {
            text = Files.readString(r, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            return Optional.empty();
        }
        Files.deleteIfExists(r);
        return Optional.of(Outcome.parse(text));
    }

    /** Writes {@code to} atomically (also {@link Reload}'s files). */
    static void write(Path dir, Path to, String text) throws IOException {
        Files.createDirectories(dir);
        Path tmp = dir.resolve("." + to.getFileName() + ".tmp");
        Files.writeString(tmp, text, StandardCharsets.UTF_8);
        Files.move(tmp, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }
}
