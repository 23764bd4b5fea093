package dev.ublkgateway.core.runtime;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Optional;

/**
 * A device's long operations, as its gateway (process {@code pid}) publishes them in the run directory:
 * NAME.progress.json, replaced atomically (a temporary file renamed over it), so a reader sees either the
 * old or the new one. Finished operations stay listed, so a command that waited for the gateway to exit
 * still reads their outcome.
 */
public record ProgressFile(String device, long pid, List<OperationProgress> operations) {
    private static final ObjectMapper JSON = new ObjectMapper()
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);
    static final String SUFFIX = ".progress.json";

    public ProgressFile {
        operations = operations == null ? List.of() : List.copyOf(operations);
    }

    public static Path path(Path runDir, String device) {
        return runDir.resolve(device + SUFFIX);
    }

    public void write(Path runDir) throws IOException {
        Files.createDirectories(runDir);
        Path tmp = runDir.resolve("." + device + ".progress.tmp");
        JSON.writeValue(tmp.toFile(), this);
        Files.move(tmp, path(runDir, device), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    /** The device's file; empty when there is none (no long operation yet) or it cannot be read. */
    public static Optional<ProgressFile> read(Path runDir, String device) {
        Path f = path(runDir, device);
        if (!Files.exists(f)) return Optional.empty();
        try {
            return Optional.of(JSON.readValue(f.toFile(), ProgressFile.class));
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    public static void remove(Path runDir, String device) {
        try {
            Files.deleteIfExists(path(runDir, device));
        } catch (IOException ignored) {
            // a stale file is harmless: readers check the pid and the start time
        }
    }

    /**
     * When a gateway lets a device go: its file goes too, unless an operation failed; then it stays for
     * `down` to tell why (down removes it once read).
     */
    public static void removeUnlessFailed(Path runDir, String device) {
        boolean failed = read(runDir, device).map(f -> f.operations().stream()
                .anyMatch(o -> OperationProgress.FAILED.equals(o.state()))).orElse(false);
        if (!failed) remove(runDir, device);
    }

    /** The operations that still run: none when the gateway that wrote them is gone. */
    public List<OperationProgress> running() {
        if (!StateStore.alive(pid)) return List.of();
        return operations.stream().filter(OperationProgress::running).toList();
    }
}
