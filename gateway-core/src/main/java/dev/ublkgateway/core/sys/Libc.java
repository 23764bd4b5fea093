package dev.ublkgateway.core.sys;

import dev.ublkgateway.api.Errno;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The few C library calls the gateway needs, as FFM downcalls. Each wrapper returns the result or
 * throws {@link NativeException} with the errno captured right after the call.
 */
public final class Libc {
    public static final int O_RDONLY = 0, O_WRONLY = 1, O_RDWR = 2, O_CREAT = 0100, O_EXCL = 0200,
            O_TRUNC = 01000, O_DIRECT = 040000, O_CLOEXEC = 02000000;
    public static final int PROT_READ = 1, PROT_WRITE = 2;
    public static final int MAP_SHARED = 1, MAP_PRIVATE = 2, MAP_ANONYMOUS = 0x20, MAP_NORESERVE = 0x4000,
            MAP_POPULATE = 0x8000;
    public static final int EFD_CLOEXEC = 02000000, EFD_NONBLOCK = 04000;
    public static final int FALLOC_FL_KEEP_SIZE = 1, FALLOC_FL_PUNCH_HOLE = 2, FALLOC_FL_ZERO_RANGE = 0x10;
    public static final int SIGKILL = 9, SIGTERM = 15;
    public static final int SEEK_DATA = 3, SEEK_HOLE = 4;
    public static final MemorySegment MAP_FAILED = MemorySegment.ofAddress(-1L);

    private static final Linker LINKER = Linker.nativeLinker();
    private static final StructLayout CALL_STATE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CALL_STATE.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final Linker.Option CAPTURE = Linker.Option.captureCallState("errno");

    private static final MethodHandle OPEN = errnoCall("open", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT));
    private static final MethodHandle CLOSE = errnoCall("close", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    private static final MethodHandle MMAP = errnoCall("mmap",
            FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG));
    private static final MethodHandle MUNMAP = errnoCall("munmap", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG));
    private static final MethodHandle EVENTFD = errnoCall("eventfd", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
    private static final MethodHandle WRITE = errnoCall("write", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG));
    private static final MethodHandle PREAD = errnoCall("pread", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_LONG));
    private static final MethodHandle PWRITE = errnoCall("pwrite", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_LONG));
    private static final MethodHandle FTRUNCATE = errnoCall("ftruncate", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG));
    private static final MethodHandle FALLOCATE = errnoCall("fallocate", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_LONG));
    private static final MethodHandle FDATASYNC = errnoCall("fdatasync", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    private static final MethodHandle KILL = errnoCall("kill", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
    private static final MethodHandle LSEEK = errnoCall("lseek", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_INT));
    /** One errno scratch space per thread, for calls made once per request (which must not allocate). */
    private static final ThreadLocal<MemorySegment> THREAD_STATE = ThreadLocal.withInitial(() -> Arena.ofAuto().allocate(CALL_STATE));
    private static final MethodHandle PREAD_FAST = plainCall("pread", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_LONG));
    private static final MethodHandle GETPID = plainCall("getpid", FunctionDescriptor.of(JAVA_INT));
    private static final MethodHandle GETTID = plainCall("gettid", FunctionDescriptor.of(JAVA_INT));
    private static final MethodHandle GETEUID = plainCall("geteuid", FunctionDescriptor.of(JAVA_INT));
    private static final MethodHandle STRERROR = plainCall("strerror", FunctionDescriptor.of(ADDRESS, JAVA_INT));
    private static final MethodHandle SYSCONF = plainCall("sysconf", FunctionDescriptor.of(JAVA_LONG, JAVA_INT));

    public static final long PAGE_SIZE = sysconf(30 /* _SC_PAGESIZE */);

    private Libc() {}

    /** A downcall that captures errno into the state segment passed first. */
    static MethodHandle errnoCall(String name, FunctionDescriptor fd) {
        return LINKER.downcallHandle(LINKER.defaultLookup().findOrThrow(name), fd, CAPTURE);
    }

    private static MethodHandle plainCall(String name, FunctionDescriptor fd) {
        return LINKER.downcallHandle(LINKER.defaultLookup().findOrThrow(name), fd);
    }

    /** Scratch space for the errno of one call; confined, so each thread uses its own. */
    static MemorySegment callState(Arena a) {
        return a.allocate(CALL_STATE);
    }

    static int errno(MemorySegment state) {
        return (int) ERRNO.get(state, 0L);
    }

    static RuntimeException unexpected(Throwable t) {
        if (t instanceof RuntimeException r) return r;
        if (t instanceof Error e) throw e;
        return new IllegalStateException(t);
    }

    public static int open(String path, int flags, int mode) throws NativeException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = callState(a);
            int fd = (int) OPEN.invokeExact(st, a.allocateFrom(path), flags | O_CLOEXEC, mode);
            if (fd < 0) throw new NativeException("open " + path, errno(st));
            return fd;
        } catch (NativeException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    public static void close(int fd) {
        if (fd < 0) return;
        try (Arena a = Arena.ofConfined()) {
            int r = (int) CLOSE.invokeExact(callState(a), fd);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /** mmap; the returned segment has the mapping's length and must be released with {@link #munmap}. */
    public static MemorySegment mmap(long length, int prot, int flags, int fd, long offset, String what)
            throws NativeException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = callState(a);
            MemorySegment p = (MemorySegment) MMAP.invokeExact(st, MemorySegment.NULL, length, prot, flags, fd, offset);
            if (p.address() == -1L) throw new NativeException("mmap " + what, errno(st));
            return p.reinterpret(length);
        } catch (NativeException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    public static void munmap(MemorySegment mapping) {
        try (Arena a = Arena.ofConfined()) {
            int r = (int) MUNMAP.invokeExact(callState(a), mapping, mapping.byteSize());
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    public static int eventfd(int initval, int flags) throws NativeException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = callState(a);
            int fd = (int) EVENTFD.invokeExact(st, initval, flags | EFD_CLOEXEC);
            if (fd < 0) throw new NativeException("eventfd", errno(st));
            return fd;
        } catch (NativeException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /** write(2) of a whole buffer segment; returns bytes written. */
    public static long write(int fd, MemorySegment buf) throws NativeException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = callState(a);
            long n = (long) WRITE.invokeExact(st, fd, buf, buf.byteSize());
            if (n < 0) throw new NativeException("write", errno(st));
            return n;
        } catch (NativeException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    public static long pread(int fd, MemorySegment buf, long offset) throws NativeException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = callState(a);
            long n = (long) PREAD.invokeExact(st, fd, buf, buf.byteSize(), offset);
            if (n < 0) throw new NativeException("pread", errno(st));
            return n;
        } catch (NativeException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /**
     * pread(2) into native memory at {@code address} without errno capture, so a hot path allocates
     * nothing; returns bytes read or -1 on failure.
     */
    public static long preadFast(int fd, long address, long length, long offset) {
        try {
            return (long) PREAD_FAST.invokeExact(fd, MemorySegment.ofAddress(address), length, offset);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /**
     * lseek(2), for SEEK_DATA and SEEK_HOLE: the resulting offset, or -errno (ENXIO: no data from
     * {@code offset} on). Allocates nothing, so it may be called per request.
     */
    public static long lseek(int fd, long offset, int whence) {
        try {
            MemorySegment st = THREAD_STATE.get();
            long r = (long) LSEEK.invokeExact(st, fd, offset, whence);
            return r < 0 ? -errno(st) : r;
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    public static long pwrite(int fd, MemorySegment buf, long offset) throws NativeException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = callState(a);
            long n = (long) PWRITE.invokeExact(st, fd, buf, buf.byteSize(), offset);
            if (n < 0) throw new NativeException("pwrite", errno(st));
            return n;
        } catch (NativeException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    public static void ftruncate(int fd, long length) throws NativeException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = callState(a);
            if ((int) FTRUNCATE.invokeExact(st, fd, length) < 0) throw new NativeException("ftruncate", errno(st));
        } catch (NativeException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /** fallocate(2); returns 0 or -errno (callers on the data path turn errno into a request result). */
    public static int fallocate(int fd, int mode, long offset, long length) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = callState(a);
            int r = (int) FALLOCATE.invokeExact(st, fd, mode, offset, length);
            return r < 0 ? -errno(st) : 0;
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    public static void fdatasync(int fd) throws NativeException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = callState(a);
            if ((int) FDATASYNC.invokeExact(st, fd) < 0) throw new NativeException("fdatasync", errno(st));
        } catch (NativeException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /** kill(2); returns 0 or -errno (ESRCH tells a caller the process is gone). */
    public static int kill(int pid, int sig) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = callState(a);
            int r = (int) KILL.invokeExact(st, pid, sig);
            return r < 0 ? -errno(st) : 0;
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    public static int getpid() {
        try {
            return (int) GETPID.invokeExact();
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    public static int gettid() {
        try {
            return (int) GETTID.invokeExact();
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    public static int geteuid() {
        try {
            return (int) GETEUID.invokeExact();
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /** "EINVAL (Invalid argument)": the errno's name plus the C library's description. */
    public static String describe(int errno) {
        return dev.ublkgateway.api.Errno.name(errno) + " (" + strerror(Math.abs(errno)) + ")";
    }

    public static String strerror(int errno) {
        try {
            MemorySegment s = (MemorySegment) STRERROR.invokeExact(errno);
            return s.reinterpret(256).getString(0);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    private static long sysconf(int name) {
        try {
            return (long) SYSCONF.invokeExact(name);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /** Rounds up to a multiple of the page size. */
    public static long pageAlign(long n) {
        return (n + PAGE_SIZE - 1) & -PAGE_SIZE;
    }

}
