package dev.ublkgateway.core.runtime;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ublkgateway.core.sys.Caller;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/** Device state files under the run directory ({@link RunDir}). */
public final class StateStore {
    private static final ObjectMapper JSON = new ObjectMapper()
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);
    private final Path dir;

    public StateStore(Path dir) {
        this.dir = dir;
    }

    /** The caller's run directory ({@link RunDir}); a per-user one is created and checked here. */
    public static StateStore system() throws IOException {
        int euid = Caller.euid();
        Path dir = RunDir.choose(euid, Caller.env());
        return new StateStore(RunDir.isPerUser(euid, Caller.env()) ? RunDir.preparePrivate(dir, euid) : dir);
    }

    public Path dir() {
        return dir;
    }

    private Path file(String name) {
        return dir.resolve(name + ".json");
    }

    /** Where the gateway publishes a device's stats stage counters, refreshed every second. */
    public Path statsFile(String name) {
        return dir.resolve(name + ".stats.json");
    }

    public void saveStats(String name, Object snapshot) throws IOException {
        Files.createDirectories(dir);
        Path tmp = dir.resolve("." + name + ".stats.tmp");
        JSON.writerWithDefaultPrettyPrinter().writeValue(tmp.toFile(), snapshot);
        Files.move(tmp, statsFile(name), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    public Optional<java.util.Map<String, Object>> loadStats(String name) {
        try {
            @SuppressWarnings("unchecked")
            java.util.Map<String, Object> m = JSON.readValue(statsFile(name).toFile(), java.util.Map.class);
            return Optional.of(m);
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    /** The serving gateway's control socket for a device ({@link ControlSocket}). */
    public Path controlSocket(String name) {
        return dir.resolve(name + ".ctl");
    }

    public Path logFile(String name) {
        return dir.resolve(name + ".log");
    }

    /** Written atomically so a reader never sees half a file. */
    public void save(DeviceState s) throws IOException {
        Files.createDirectories(dir);
        Path tmp = dir.resolve("." + s.name() + ".tmp");
        JSON.writeValue(tmp.toFile(), s);
        Files.move(tmp, file(s.name()), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    public Optional<DeviceState> load(String name) {
        Path f = file(name);
        if (!Files.exists(f)) return Optional.empty();
        try {
            return Optional.of(JSON.readValue(f.toFile(), DeviceState.class));
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    public List<DeviceState> all() {
        List<DeviceState> out = new ArrayList<>();
        if (!Files.isDirectory(dir)) return out;
        try (Stream<Path> files = Files.list(dir)) {
            for (Path f : files.filter(p -> p.getFileName().toString().endsWith(".json")
                    && !p.getFileName().toString().endsWith(".stats.json")
                    && !p.getFileName().toString().endsWith(ProgressFile.SUFFIX)).sorted().toList()) {
                String n = f.getFileName().toString();
                load(n.substring(0, n.length() - 5)).ifPresent(out::add);
            }
        } catch (IOException e) {
            return out;
        }
        return out;
    }

    /** By name, or by device id when {@code nameOrId} is a number. */
    public Optional<DeviceState> find(String nameOrId) {
        Optional<DeviceState> byName = load(nameOrId);
        if (byName.isPresent() || !nameOrId.matches("\\d+")) return byName;
        int id = Integer.parseInt(nameOrId);
        return all().stream().filter(s -> s.devId() == id).findFirst();
    }

    public void remove(String name) {
        try {
            Files.deleteIfExists(statsFile(name));
            Files.deleteIfExists(controlSocket(name)); // a dead gateway's: nobody answers there
            ProgressFile.removeUnlessFailed(dir, name);
            Files.deleteIfExists(file(name));
        } catch (IOException ignored) {
            // a stale state file is harmless: readers check the pid
        }
    }

    public static boolean alive(long pid) {
        // 0: no process (a device handed over, waiting for the next gateway)
        return pid > 0 && ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
    }
}
