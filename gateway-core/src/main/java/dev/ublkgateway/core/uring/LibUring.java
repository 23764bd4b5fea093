package dev.ublkgateway.core.uring;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * Downcalls into the system liburing (liburing.so.2). Only the non-inline entry points are bound here:
 * ring setup/teardown, submission (which enters the kernel) and registration. SQE filling and CQE reaping
 * are liburing inlines, so {@link Ring} does them in Java over the mapped rings.
 * All functions return -errno on failure, as liburing does.
 */
final class LibUring {
    static final String LIBRARY = "liburing.so.2";

    private static final SymbolLookup LIB = load();
    private static final Linker LINKER = Linker.nativeLinker();

    static final MethodHandle QUEUE_INIT_PARAMS = fn("io_uring_queue_init_params",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS));
    static final MethodHandle QUEUE_EXIT = LINKER.downcallHandle(LIB.findOrThrow("io_uring_queue_exit"),
            FunctionDescriptor.ofVoid(ADDRESS));
    static final MethodHandle SUBMIT = fn("io_uring_submit", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    static final MethodHandle SUBMIT_AND_WAIT = fn("io_uring_submit_and_wait",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
    static final MethodHandle REGISTER_FILES = fn("io_uring_register_files",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_INT));
    static final MethodHandle REGISTER_BUFFERS = fn("io_uring_register_buffers",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_INT));
    static final MethodHandle REGISTER_BUFFERS_SPARSE = fn("io_uring_register_buffers_sparse",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));

    static final MethodHandle REGISTER_BUF_RING = fn("io_uring_register_buf_ring",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_INT));

    private LibUring() {}

    private static SymbolLookup load() {
        try {
            return SymbolLookup.libraryLookup(LIBRARY, Arena.global());
        } catch (IllegalArgumentException e) {
            throw new MissingLibraryException(LIBRARY + " not found: install the liburing2 package "
                    + "(apt install liburing2)");
        }
    }

    private static MethodHandle fn(String name, FunctionDescriptor fd) {
        return LINKER.downcallHandle(LIB.findOrThrow(name), fd);
    }

    /** Thrown once, at first use, when liburing is not installed. */
    static final class MissingLibraryException extends IllegalStateException {
        MissingLibraryException(String msg) {
            super(msg);
        }
    }

}
