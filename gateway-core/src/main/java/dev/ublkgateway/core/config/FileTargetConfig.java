package dev.ublkgateway.core.config;

import dev.ublkgateway.api.Size;

import dev.ublkgateway.api.ConfigOption;
import java.nio.file.Path;
import java.util.Objects;

/**
 * Options of target type {@code file}: the device is backed by a regular file (or a block
 * device node).
 *
 * @param path the backing file; in YAML absolute or relative to the configuration file's
 *     directory, here always resolved (absolute when loaded from a file)
 * @param direct open with O_DIRECT (default false)
 * @param sync how flushes reach stable storage: {@code fdatasync} (default) or {@code fsync}
 * @param create create the file with the device size if it does not exist (default false). The
 *     loader does not look at the file; the target checks existence and size when it opens it.
 */
public record FileTargetConfig(
        @ConfigOption(required = true, path = true,
                description = "backing file or block device (relative to the YAML file)")
        String path,
        @ConfigOption(description = "open with O_DIRECT, bypassing the page cache", defaultValue = "false")
        boolean direct,
        @ConfigOption(description = "what FLUSH runs: fdatasync or fsync", defaultValue = FDATASYNC)
        String sync,
        @ConfigOption(description = "create the file, sparse and of the device size, if it is missing",
                defaultValue = "false")
        boolean create) {

    public static final String FDATASYNC = "fdatasync";
    public static final String FSYNC = "fsync";

    public FileTargetConfig {
        Objects.requireNonNull(path, "path");
        if (path.isBlank()) {
            throw new IllegalArgumentException("path is empty; use the backing file's path");
        }
        if (sync == null) {
            sync = FDATASYNC;
        }
        if (!sync.equals(FDATASYNC) && !sync.equals(FSYNC)) {
            throw new IllegalArgumentException("sync " + Size.quote(sync)
                    + " is not supported; use fdatasync or fsync");
        }
    }

    /** Defaults: not direct, fdatasync, no create. */
    public FileTargetConfig(String path) {
        this(path, false, FDATASYNC, false);
    }

    public Path file() {
        return Path.of(path);
    }

    public boolean useFsync() {
        return sync.equals(FSYNC);
    }
}
