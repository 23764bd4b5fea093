package dev.ublkgateway.plugins.encryption;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * AES-256-ECB and AES-256-GCM from the system OpenSSL (libcrypto.so.3, Debian package libssl3) through FFM downcalls.
 * The update call is a critical downcall with heap access: it reads and writes Java arrays and request
 * buffers directly (no copy, no thread-state change), and it is short (at most one 64 KiB batch).
 */
final class LibCrypto {
    static final String LIBRARY = "libcrypto.so.3";

    private LibCrypto() {}

    static boolean available() {
        return Fns.LIB != null;
    }

    /** One line for a user who asked for {@code engine: openssl} on a machine without it. */
    static String missing() {
        return "engine openssl: " + LIBRARY + " not found; install libssl3 (apt install libssl3) or use engine: auto";
    }

    /** An ECB worker from {@code in} to {@code out} with the 32-byte key at {@code key[keyOffset]}. */
    static AesBlocks ecb(byte[] key, int keyOffset, boolean encrypt, byte[] in, byte[] out) {
        if (!available()) throw new IllegalStateException(missing());
        try {
            MemorySegment ctx = (MemorySegment) Fns.CTX_NEW.invokeExact();
            if (ctx.equals(MemorySegment.NULL)) throw new IllegalStateException("EVP_CIPHER_CTX_new failed");
            try (Arena a = Arena.ofConfined()) {
                MemorySegment k = a.allocate(32);
                MemorySegment.copy(key, keyOffset, k, JAVA_BYTE, 0, 32);
                MemorySegment cipher = (MemorySegment) Fns.AES_256_ECB.invokeExact();
                int ok = (int) Fns.CIPHER_INIT.invokeExact(ctx, cipher, MemorySegment.NULL, k, MemorySegment.NULL,
                        encrypt ? 1 : 0);
                k.fill((byte) 0);
                if (ok != 1 || (int) Fns.SET_PADDING.invokeExact(ctx, 0) != 1) {
                    Fns.CTX_FREE.invokeExact(ctx);
                    throw new IllegalStateException("OpenSSL refused to set up AES-256-ECB");
                }
            }
            return new Ecb(ctx, MemorySegment.ofArray(in), MemorySegment.ofArray(out));
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** An AES-256-GCM worker for one thread at a time with the 32-byte {@code key}. */
    static Gcm gcm(byte[] key) {
        if (!available()) throw new IllegalStateException(missing());
        return new Gcm(key);
    }

    /**
     * AES-256-GCM with a 12-byte nonce and a 16-byte tag, the same bytes as the JDK's "AES/GCM/NoPadding".
     * One context per direction keeps the key schedule; each call sets only the nonce. All calls are
     * critical downcalls on the caller's segments (heap or native): a 1 MiB chunk takes well under a
     * millisecond on AES-NI and carry-less multiply.
     */
    static final class Gcm {
        private static final int CTRL_GET_TAG = 0x10, CTRL_SET_TAG = 0x11, TAG = 16;
        private static final java.lang.ref.Cleaner CLEANER = java.lang.ref.Cleaner.create();
        private final MemorySegment enc, dec;
        private final MemorySegment outLength = MemorySegment.ofArray(new int[1]);

        private Gcm(byte[] key) {
            enc = context(key, 1);
            MemorySegment d;
            try {
                d = context(key, 0);
            } catch (RuntimeException e) {
                free(enc);
                throw e;
            }
            dec = d;
            MemorySegment e1 = enc, d1 = dec;
            CLEANER.register(this, () -> { free(e1); free(d1); }); // also wipes the key schedules
        }

        private static MemorySegment context(byte[] key, int encrypt) {
            try {
                MemorySegment ctx = (MemorySegment) Fns.CTX_NEW.invokeExact();
                if (ctx.equals(MemorySegment.NULL)) throw new IllegalStateException("EVP_CIPHER_CTX_new failed");
                try (Arena a = Arena.ofConfined()) {
                    MemorySegment k = a.allocate(32);
                    MemorySegment.copy(key, 0, k, JAVA_BYTE, 0, 32);
                    MemorySegment cipher = (MemorySegment) Fns.AES_256_GCM.invokeExact();
                    int ok = (int) Fns.CIPHER_INIT.invokeExact(ctx, cipher, MemorySegment.NULL, k, MemorySegment.NULL, encrypt);
                    k.fill((byte) 0);
                    if (ok != 1) {
                        free(ctx);
                        throw new IllegalStateException("OpenSSL refused to set up AES-256-GCM");
                    }
                }
                return ctx;
            } catch (RuntimeException | Error e) {
                throw e;
            } catch (Throwable t) {
                throw new IllegalStateException(t);
            }
        }

        private static void free(MemorySegment ctx) {
            try {
                Fns.CTX_FREE.invokeExact(ctx);
            } catch (Throwable t) {
                throw new IllegalStateException(t);
            }
        }

        /** Encrypts {@code in} into {@code out} (same length) and then the tag; returns the bytes written. */
        int encrypt(MemorySegment nonce, MemorySegment aad, MemorySegment in, MemorySegment out) {
            int n = Math.toIntExact(in.byteSize());
            MemorySegment o = out.asSlice(0, n + TAG); // bounds checked before native code writes
            try {
                start(enc, nonce, aad);
                update(enc, o, in, n);
                final_(enc, o.asSlice(n));
                check((int) Fns.CTX_CTRL.invokeExact(enc, CTRL_GET_TAG, TAG, o.asSlice(n, TAG)), "reading the tag");
            } catch (RuntimeException | Error e) {
                throw e;
            } catch (Throwable t) {
                throw new IllegalStateException(t);
            }
            return n + TAG;
        }

        /** Decrypts {@code in} (ciphertext then tag) into {@code out}; false when the tag does not match. */
        boolean decrypt(MemorySegment nonce, MemorySegment aad, MemorySegment in, MemorySegment out) {
            int n = Math.toIntExact(in.byteSize() - TAG);
            MemorySegment o = out.asSlice(0, n);
            try {
                start(dec, nonce, aad);
                update(dec, o, in, n);
                check((int) Fns.CTX_CTRL.invokeExact(dec, CTRL_SET_TAG, TAG, in.asSlice(n, TAG)), "setting the tag");
                return (int) Fns.CIPHER_FINAL.invokeExact(dec, o.asSlice(n), outLength) == 1;
            } catch (RuntimeException | Error e) {
                throw e;
            } catch (Throwable t) {
                throw new IllegalStateException(t);
            }
        }

        private void start(MemorySegment ctx, MemorySegment nonce, MemorySegment aad) throws Throwable {
            check((int) Fns.CIPHER_INIT_IV.invokeExact(ctx, MemorySegment.NULL, MemorySegment.NULL, MemorySegment.NULL, nonce, -1),
                    "setting the nonce");
            check((int) Fns.CIPHER_UPDATE.invokeExact(ctx, MemorySegment.NULL, outLength, aad, Math.toIntExact(aad.byteSize())),
                    "adding the associated data");
        }

        private void update(MemorySegment ctx, MemorySegment to, MemorySegment from, int n) throws Throwable {
            check((int) Fns.CIPHER_UPDATE.invokeExact(ctx, to, outLength, from, n), "EVP_CipherUpdate");
            if (outLength.get(JAVA_INT, 0) != n) throw new IllegalStateException("EVP_CipherUpdate returned a short block");
        }

        private void final_(MemorySegment ctx, MemorySegment to) throws Throwable {
            check((int) Fns.CIPHER_FINAL.invokeExact(ctx, to, outLength), "EVP_CipherFinal_ex");
        }

        private static void check(int ok, String what) {
            if (ok != 1) throw new IllegalStateException("OpenSSL AES-256-GCM failed " + what);
        }
    }

    private static final class Ecb implements AesBlocks {
        private MemorySegment ctx;
        private final MemorySegment in, out;
        private final MemorySegment outLength = MemorySegment.ofArray(new int[1]);

        Ecb(MemorySegment ctx, MemorySegment in, MemorySegment out) {
            this.ctx = ctx;
            this.in = in;
            this.out = out;
        }

        @Override
        public void run(int n) {
            update(in, out, n);
        }

        @Override
        public void runInPlace(MemorySegment buf, long at, int n) {
            MemorySegment blocks = buf.asSlice(at, n); // checks the bounds before native code writes
            update(blocks, blocks, n);
        }

        private void update(MemorySegment from, MemorySegment to, int n) {
            int ok;
            try {
                ok = (int) Fns.CIPHER_UPDATE.invokeExact(ctx, to, outLength, from, n);
            } catch (Throwable t) {
                throw new IllegalStateException(t);
            }
            if (ok != 1 || outLength.get(JAVA_INT, 0) != n) throw new IllegalStateException("EVP_CipherUpdate failed");
        }

        @Override
        public boolean chained() {
            return false;
        }

        @Override
        public void close() {
            if (ctx == null) return;
            try {
                Fns.CTX_FREE.invokeExact(ctx); // also wipes the key schedule
            } catch (Throwable t) {
                throw new IllegalStateException(t);
            }
            ctx = null;
        }
    }

    /** The bindings, looked up on first use; {@code LIB} is null when the library is not installed. */
    private static final class Fns {
        static final Linker LINKER = Linker.nativeLinker();
        static final SymbolLookup LIB = load();
        static final MethodHandle CTX_NEW = fn("EVP_CIPHER_CTX_new", FunctionDescriptor.of(ADDRESS));
        static final MethodHandle CTX_FREE = fn("EVP_CIPHER_CTX_free", FunctionDescriptor.ofVoid(ADDRESS));
        static final MethodHandle AES_256_ECB = fn("EVP_aes_256_ecb", FunctionDescriptor.of(ADDRESS));
        static final MethodHandle AES_256_GCM = fn("EVP_aes_256_gcm", FunctionDescriptor.of(ADDRESS));
        // the per-chunk GCM calls read and write Java arrays: critical, like the update
        static final MethodHandle CIPHER_INIT_IV = critical("EVP_CipherInit_ex",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, JAVA_INT));
        static final MethodHandle CIPHER_FINAL = critical("EVP_CipherFinal_ex", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS));
        static final MethodHandle CTX_CTRL = critical("EVP_CIPHER_CTX_ctrl",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT, ADDRESS));
        static final MethodHandle CIPHER_INIT = fn("EVP_CipherInit_ex",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, JAVA_INT));
        static final MethodHandle SET_PADDING = fn("EVP_CIPHER_CTX_set_padding",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
        static final MethodHandle CIPHER_UPDATE = LIB == null ? null : LINKER.downcallHandle(
                LIB.findOrThrow("EVP_CipherUpdate"),
                FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, ADDRESS, JAVA_INT),
                Linker.Option.critical(true));

        private static SymbolLookup load() {
            try {
                SymbolLookup lib = SymbolLookup.libraryLookup(LIBRARY, Arena.global());
                return lib.find("EVP_CipherUpdate").isPresent() ? lib : null;
            } catch (IllegalArgumentException | IllegalCallerException e) {
                return null;
            }
        }

        private static MethodHandle fn(String name, FunctionDescriptor fd) {
            return LIB == null ? null : LINKER.downcallHandle(LIB.findOrThrow(name), fd);
        }

        private static MethodHandle critical(String name, FunctionDescriptor fd) {
            return LIB == null ? null : LINKER.downcallHandle(LIB.findOrThrow(name), fd, Linker.Option.critical(true));
        }
    }
}
