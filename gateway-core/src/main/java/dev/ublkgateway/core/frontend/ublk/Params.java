package dev.ublkgateway.core.frontend.ublk;

import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/**
 * The basic and discard parts of struct ublk_params. We send the 6.1-era 60-byte prefix (len, types,
 * basic, discard), which every ublk kernel accepts; newer kernels treat the rest as absent.
 */
public record Params(int attrs, int logicalBsShift, int physicalBsShift, int ioOptShift, int ioMinShift,
                     int maxSectors, long devSectors, boolean discard, int discardGranularity,
                     int maxDiscardSectors, int maxWriteZeroesSectors) {
    public static final int SIZE_SENT = 60;
    public static final int SIZE_FULL = 152;
    static final long LEN = 0, TYPES = 4, BASIC = 8, DISCARD = 40, DEVT = 60;
    // ublk_param_basic
    static final long B_ATTRS = 0, B_LBS = 4, B_PBS = 5, B_IO_OPT = 6, B_IO_MIN = 7, B_MAX_SECTORS = 8,
            B_CHUNK_SECTORS = 12, B_DEV_SECTORS = 16, B_VIRT_BOUNDARY = 24;
    // ublk_param_discard
    static final long D_ALIGNMENT = 0, D_GRANULARITY = 4, D_MAX_DISCARD = 8, D_MAX_WRITE_ZEROES = 12,
            D_MAX_SEGMENTS = 16;

    void writeTo(MemorySegment s) {
        s.asSlice(0, SIZE_FULL).fill((byte) 0);
        s.set(JAVA_INT, LEN, SIZE_SENT);
        s.set(JAVA_INT, TYPES, Uapi.PARAM_TYPE_BASIC | (discard ? Uapi.PARAM_TYPE_DISCARD : 0));
        s.set(JAVA_INT, BASIC + B_ATTRS, attrs);
        s.set(JAVA_BYTE, BASIC + B_LBS, (byte) logicalBsShift);
        s.set(JAVA_BYTE, BASIC + B_PBS, (byte) physicalBsShift);
        s.set(JAVA_BYTE, BASIC + B_IO_OPT, (byte) ioOptShift);
        s.set(JAVA_BYTE, BASIC + B_IO_MIN, (byte) ioMinShift);
        s.set(JAVA_INT, BASIC + B_MAX_SECTORS, maxSectors);
        s.set(JAVA_LONG, BASIC + B_DEV_SECTORS, devSectors);
        if (discard) {
            s.set(JAVA_INT, DISCARD + D_GRANULARITY, discardGranularity);
            s.set(JAVA_INT, DISCARD + D_MAX_DISCARD, maxDiscardSectors);
            s.set(JAVA_INT, DISCARD + D_MAX_WRITE_ZEROES, maxWriteZeroesSectors);
            s.set(JAVA_SHORT, DISCARD + D_MAX_SEGMENTS, (short) 1);
        }
    }

    static Params readFrom(MemorySegment s) {
        boolean d = (s.get(JAVA_INT, TYPES) & Uapi.PARAM_TYPE_DISCARD) != 0;
        return new Params(s.get(JAVA_INT, BASIC + B_ATTRS), s.get(JAVA_BYTE, BASIC + B_LBS),
                s.get(JAVA_BYTE, BASIC + B_PBS), s.get(JAVA_BYTE, BASIC + B_IO_OPT),
                s.get(JAVA_BYTE, BASIC + B_IO_MIN), s.get(JAVA_INT, BASIC + B_MAX_SECTORS),
                s.get(JAVA_LONG, BASIC + B_DEV_SECTORS), d, s.get(JAVA_INT, DISCARD + D_GRANULARITY),
                s.get(JAVA_INT, DISCARD + D_MAX_DISCARD), s.get(JAVA_INT, DISCARD + D_MAX_WRITE_ZEROES));
    }
}
