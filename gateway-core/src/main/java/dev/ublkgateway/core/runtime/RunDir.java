package dev.ublkgateway.core.runtime;

import java.io.IOException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import java.util.Optional;

/**
 * The run directory: device state, logs and the NBD socket. $UBLKGW_RUN_DIR when set; else
 * /run/ublk-gateway for root; else one per user, so that NBD devices work without root:
 * $XDG_RUNTIME_DIR/ublk-gateway, or /tmp/ublk-gateway-UID.
 */
public final class RunDir {
    public static final String ENV = "UBLKGW_RUN_DIR";
    public static final Path ROOT_DIR = Path.of("/run/ublk-gateway");

    private RunDir() {}

    public static Path choose(int euid, Map<String, String> env) {
        String set = env.get(ENV);
        if (set != null && !set.isEmpty()) return Path.of(set);
        if (euid == 0) return ROOT_DIR;
        String xdg = env.get("XDG_RUNTIME_DIR");
        if (xdg != null && xdg.startsWith("/")) return Path.of(xdg, "ublk-gateway");
        return Path.of("/tmp", "ublk-gateway-" + euid);
    }

    /** True for the per-user directories, which {@link #preparePrivate} creates and checks. */
    public static boolean isPerUser(int euid, Map<String, String> env) {
        String set = env.get(ENV);
        return euid != 0 && (set == null || set.isEmpty());
    }

    /**
     * Creates {@code dir} with mode 0700, or checks the one there: a directory (not a link) owned by
     * {@code euid}. In a shared /tmp another user could have made it first to read or steer our state.
     */
    public static Path preparePrivate(Path dir, int euid) throws IOException {
        try {
            Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        } catch (java.nio.file.FileAlreadyExistsException e) {
            // checked below
        }
        if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
            throw new IOException("run directory " + dir + " exists but is not a directory; remove it, or set "
                    + ENV + " to a directory you own");
        }
        int owner = (Integer) Files.getAttribute(dir, "unix:uid", LinkOption.NOFOLLOW_LINKS);
        if (owner != euid) {
            throw new IOException("run directory " + dir + " belongs to uid " + owner + ", not to you (uid " + euid
                    + "); remove it, or set " + ENV + " to a directory you own");
        }
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
        return dir;
    }

    /**
     * One line for a file-system failure inside {@code dir} (the JDK's message is often just the path):
     * what failed where, and the fix. Empty for failures elsewhere.
     */
    public static Optional<String> explain(FileSystemException e, Path dir) {
        if (e.getFile() == null || !Path.of(e.getFile()).toAbsolutePath().startsWith(dir.toAbsolutePath())) {
            return Optional.empty();
        }
        String why = switch (e) {
            case java.nio.file.AccessDeniedException a -> "permission denied";
            case java.nio.file.NoSuchFileException n -> "a parent directory does not exist";
            case java.nio.file.FileSystemLoopException l -> "too many symbolic links";
            default -> e.getReason() != null ? e.getReason() : e.getClass().getSimpleName();
        };
        return Optional.of("cannot use the run directory " + dir + " (" + why + " on " + e.getFile()
                + "); run as root, or set " + ENV + " to a directory you can write");
    }
}
