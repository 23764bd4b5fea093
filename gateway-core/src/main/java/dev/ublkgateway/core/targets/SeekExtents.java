package dev.ublkgateway.core.targets;

import dev.ublkgateway.api.ExtentSink;
import dev.ublkgateway.api.Errno;
import dev.ublkgateway.core.sys.Libc;

/**
 * Holes of a sparse file, from the file system (lseek SEEK_DATA / SEEK_HOLE): a few system calls per
 * extent, answered from the file system's metadata, so quick enough for a queue's thread.
 */
final class SeekExtents {
    private SeekExtents() {}

    /** Reports {@code [offset, offset + length)} of {@code fd}; what lseek cannot tell is reported as data. */
    static int report(int fd, long offset, long length, ExtentSink sink) {
        long pos = offset, end = offset + length;
        while (pos < end) {
            long data = Libc.lseek(fd, pos, Libc.SEEK_DATA);
            if (data == -Errno.ENXIO) data = end; // no data after pos (also past the end of a shorter file)
            else if (data < 0) return dataTo(pos, end, sink);
            if (data > pos) {
                long to = Math.min(data, end);
                if (!sink.extent(to - pos, ExtentSink.HOLE | ExtentSink.ZERO)) return 0;
                pos = to;
                if (pos == end) break;
            }
            long hole = Libc.lseek(fd, pos, Libc.SEEK_HOLE);
            if (hole < 0) return dataTo(pos, end, sink);
            // hole == pos: the data was punched out between the two calls; look again
            if (hole > pos) {
                long to = Math.min(hole, end);
                if (!sink.extent(to - pos, 0)) return 0;
                pos = to;
            }
        }
        return 0;
    }

    private static int dataTo(long pos, long end, ExtentSink sink) {
        sink.extent(end - pos, 0);
        return 0;
    }
}
