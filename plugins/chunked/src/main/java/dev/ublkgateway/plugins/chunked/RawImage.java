package dev.ublkgateway.plugins.chunked;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;

/** A raw image a volume is imported from or exported to: a regular file or a block device. */
final class RawImage {
    private RawImage() {}

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

    /** Reads {@code length} bytes at {@code offset} into {@code buf[0, length)}; past the end of the image, zeros. */
    static void readFully(FileChannel ch, long offset, byte[] buf, int length) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(buf, 0, length);
        while (b.hasRemaining()) {
            int n = ch.read(b, offset + b.position());
            if (n < 0) break;
        }
        java.util.Arrays.fill(buf, b.position(), length, (byte) 0);
    }

    static void writeFully(FileChannel ch, long offset, byte[] buf, int length) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(buf, 0, length);
        while (b.hasRemaining()) ch.write(b, offset + b.position());
    }
}
