package dev.ublkgateway.plugins.chunked.store;

import dev.ublkgateway.api.ObjectStore;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryNotEmptyException;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One file per object under a directory. A put writes a temporary file, syncs it, renames it over the
 * object and syncs the directory, so an object is either the old or the new bytes after a crash.
 */
public final class DirectoryStore implements ObjectStore {
    private final Path dir;
    private final boolean sync;
    private final AtomicLong tmpSeq = new AtomicLong();

    public DirectoryStore(Path dir, boolean sync) throws IOException {
        this.dir = dir;
        this.sync = sync;
        try {
            Files.createDirectories(dir);
        } catch (AccessDeniedException e) {
            throw new IOException("store directory " + dir + " cannot be created: permission denied; check its parent's permissions");
        } catch (IOException e) {
            throw new IOException("store directory " + dir + " cannot be created (" + e.getMessage() + "); check the path");
        }
        if (!Files.isDirectory(dir) || !Files.isWritable(dir)) {
            throw new IOException("store path " + dir + " is not a writable directory; use a directory the gateway may write");
        }
    }

    /** The directory beside this one: {@code <parent of path>/<name>}. */
    @Override
    public ObjectStore sibling(String name) throws IOException {
        Path up = dir.toAbsolutePath().getParent();
        if (up == null) throw new IOException("store directory " + dir + " has no parent folder, so no other volume is beside it");
        if (!Files.isDirectory(up.resolve(name))) throw new IOException("no volume " + name + " beside " + dir + " (no folder " + up.resolve(name) + ")");
        return new DirectoryStore(up.resolve(name), sync);
    }

    private Path file(String key) {
        if (key.isEmpty() || key.contains("..") || key.startsWith("/")) throw new IllegalArgumentException("bad object key " + key);
        return dir.resolve(key);
    }

    public Optional<byte[]> get(String key) throws IOException {
        try {
            return Optional.of(Files.readAllBytes(file(key)));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        }
    }

    public void put(String key, byte[] data, int offset, int length) throws IOException {
        Path target = file(key);
        Path parent = target.getParent();
        if (!parent.equals(dir) && !Files.isDirectory(parent)) {
            Files.createDirectories(parent);
            if (sync) syncDir(parent.getParent()); // the new directory's own entry
        }
        Path tmp = parent.resolve("." + target.getFileName() + ".tmp" + tmpSeq.incrementAndGet());
        FileChannel opened;
        try {
            opened = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING);
        } catch (NoSuchFileException e) {
            // a delete of the folder's last object removed the folder meanwhile
            Files.createDirectories(parent);
            opened = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING);
        }
        try (FileChannel ch = opened) {
            ByteBuffer b = ByteBuffer.wrap(data, offset, length);
            while (b.hasRemaining()) ch.write(b);
            if (sync) ch.force(false);
        } catch (IOException e) {
            Files.deleteIfExists(tmp);
            throw e;
        }
        Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        if (sync) syncDir(parent);
    }

    public void delete(String key) throws IOException {
        Path f = file(key);
        if (!Files.deleteIfExists(f)) return;
        try {
            if (sync) syncDir(f.getParent());
        } catch (NoSuchFileException e) {
            return; // a delete of the folder's last other object removed the folder meanwhile
        }
        // a folder emptied by the delete goes too, so a deleted volume leaves no tree of empty folders
        for (Path p = f.getParent(); p != null && !p.equals(dir) && p.startsWith(dir); p = p.getParent()) {
            try {
                Files.delete(p);
            } catch (DirectoryNotEmptyException | NoSuchFileException e) {
                return;
            }
        }
    }

    /** Keys under {@code prefix}; temporary files of puts in progress are left out. */
    @Override
    public List<String> list(String prefix, boolean recursive) throws IOException {
        List<String> keys = new ArrayList<>();
        int slash = prefix.lastIndexOf('/');
        Path from = slash < 0 ? dir : dir.resolve(prefix.substring(0, slash));
        if (!Files.isDirectory(from)) return keys;
        try (Stream<Path> s = recursive ? Files.walk(from) : Files.list(from)) {
            for (Path p : (Iterable<Path>) s::iterator) {
                if (p.equals(from) || p.getFileName().toString().startsWith(".")) continue;
                boolean folder = Files.isDirectory(p);
                if (recursive && folder) continue;
                String key = dir.relativize(p).toString() + (folder ? "/" : "");
                if (key.startsWith(prefix)) keys.add(key);
            }
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
        return keys;
    }

    private static void syncDir(Path d) throws IOException {
        try (FileChannel ch = FileChannel.open(d, StandardOpenOption.READ)) {
            ch.force(true);
        }
    }

    public void close() {}
}
