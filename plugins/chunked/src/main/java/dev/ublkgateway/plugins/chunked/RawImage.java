package dev.ublkgateway.plugins.chunked;

import dev.ublkgateway.api.BlockImage;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * A raw image a volume is imported from or exported to: a regular file or a block device, as a
 * {@link BlockImage} so that import and export treat it like any other image (an NBD export).
 */
final class RawImage implements BlockImage {
    private static final byte[] ZEROS = new byte[1 << 20];
    private final Path path;
    private final FileChannel channel;
    private final long size;
    private final boolean writable;
    /** A new sparse file: zeros are holes already and need no write. */
    private final boolean fresh;

    private RawImage(Path path, FileChannel channel, long size, boolean writable, boolean fresh) {
        this.path = path;
        this.channel = channel;
        this.size = size;
        this.writable = writable;
        this.fresh = fresh;
    }

    /** The image to import: a file or block device, read only. */
    static RawImage source(Path p) throws IOException {
        long size = size(p);
        return new RawImage(p, open(p, StandardOpenOption.READ), size, false, false);
    }

    /** A block device to export into (its writes of zeros are real writes). */
    static RawImage device(Path p) throws IOException {
        long size = size(p);
        return new RawImage(p, open(p, StandardOpenOption.WRITE), size, true, false);
    }

    /** A new file of {@code size} bytes, all holes; refused when it exists. */
    static RawImage newFile(Path p, long size) throws IOException {
        open(p, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE).close();
        try (RandomAccessFile f = new RandomAccessFile(p.toFile(), "rw")) {
            f.setLength(size); // sparse: chunks without data stay holes
        }
        return new RawImage(p, open(p, StandardOpenOption.WRITE), size, true, true);
    }

    /** True for a block device (which has no holes and whose length the file system does not know). */
    static boolean isBlockDevice(Path p) {
        return Files.exists(p) && !Files.isRegularFile(p) && !Files.isDirectory(p);
    }

    /** The image's length in bytes; a block device's from sysfs. */
    static long size(Path p) throws IOException {
        if (!Files.exists(p)) throw new IOException(p + ": no such file or block device; check the path");
        if (Files.isDirectory(p)) throw new IOException(p + " is a directory; name a raw image file or a block device");
        if (Files.isRegularFile(p)) return Files.size(p);
        Path dev = p.toRealPath();
        Path sys = Path.of("/sys/class/block", dev.getFileName().toString(), "size");
        try {
            return Long.parseLong(Files.readString(sys).strip()) * 512;
        } catch (IOException | NumberFormatException e) {
            throw new IOException(p + " is neither a regular file nor a block device; name a raw image file or a block device");
        }
    }

    /** Opens an image file or device; a missing folder or a refused permission is one line naming the path. */
    private static FileChannel open(Path p, StandardOpenOption... options) throws IOException {
        try {
            return FileChannel.open(p, options);
        } catch (java.nio.file.NoSuchFileException e) {
            throw new IOException(p + ": no such file or folder; check the path");
        } catch (java.nio.file.AccessDeniedException e) {
            throw new IOException(p + ": permission denied; check its permissions (a block device needs root or the disk group)");
        } catch (java.nio.file.FileAlreadyExistsException e) {
            throw new IOException(p + " exists; remove it or name a new file (export writes a new file or a block device)");
        } catch (java.nio.file.FileSystemException e) {
            throw new IOException(p + ": " + (e.getReason() == null ? "cannot be opened" : e.getReason()));
        }
    }

    @Override
    public String name() {
        return path.toString();
    }

    @Override
    public long size() {
        return size;
    }

    @Override
    public boolean writable() {
        return writable;
    }

    /** Reads {@code length} bytes at {@code offset} into {@code buf[0, length)}; past the end of the image, zeros. */
    @Override
    public void read(long offset, byte[] buf, int length) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(buf, 0, length);
        while (b.hasRemaining()) {
            int n = channel.read(b, offset + b.position());
            if (n < 0) break;
        }
        java.util.Arrays.fill(buf, b.position(), length, (byte) 0);
    }

    @Override
    public void write(long offset, byte[] buf, int length) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(buf, 0, length);
        while (b.hasRemaining()) channel.write(b, offset + b.position());
    }

    @Override
    public void writeZeroes(long offset, int length) throws IOException {
        if (fresh) return;
        for (int done = 0; done < length; ) {
            int n = Math.min(ZEROS.length, length - done);
            write(offset + done, ZEROS, n);
            done += n;
        }
    }

    @Override
    public void flush() throws IOException {
        channel.force(false);
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }
}
