package dev.ublkgateway.plugins.chunked;

import dev.ublkgateway.api.ConfigOption;
import dev.ublkgateway.api.Nested;
import dev.ublkgateway.api.NestedSpec;
import dev.ublkgateway.api.Size;

import java.util.List;

/**
 * Options of target type {@code chunked}: the volume is split into chunks of {@code chunk-size}, one
 * object per chunk in {@code store}, passed through {@code codecs} in order on the way out.
 */
public record ChunkedTargetConfig(
        @ConfigOption(description = "bytes per chunk (one object each); a power of two from 64KiB to 64MiB",
                defaultValue = "1MiB")
        Size chunkSize,
        @ConfigOption(description = "memory for cached chunks, at least 8 chunks", defaultValue = "256MiB")
        Size cache,
        @ConfigOption(description = "chunks written to the store at once", defaultValue = "8")
        Integer writebackThreads,
        @ConfigOption(description = "milliseconds a chunk stays dirty before it is written back (a sequential writer's chunks go once it has passed them)", defaultValue = "500")
        Integer writebackDelayMs,
        @ConfigOption(description = "chunks read ahead when reads are sequential, growing to 8 times that along a run (0: off)", defaultValue = "4")
        Integer readAhead,
        @Nested("codec")
        @ConfigOption(description = "chunk codecs applied in order before storing, e.g. [{type: aes-gcm, key: ...}]")
        List<NestedSpec> codecs,
        @Nested("store")
        @ConfigOption(required = true, description = "object store, e.g. {type: directory, path: /var/lib/vol0}")
        NestedSpec store) {

    static final long MAX_CHUNK_SIZE = 64 * Size.MiB;

    public ChunkedTargetConfig {
        if (chunkSize == null) chunkSize = Size.of(Size.MiB);
        long c = chunkSize.bytes();
        if (c < 64 * Size.KiB || c > MAX_CHUNK_SIZE || Long.bitCount(c) != 1) {
            throw new IllegalArgumentException("chunk-size " + chunkSize + " is not supported;"
                    + " use a power of two from 64KiB to 64MiB, e.g. 1MiB");
        }
        if (cache == null) cache = Size.of(256 * Size.MiB);
        if (cache.bytes() < 8 * c) {
            throw new IllegalArgumentException("cache " + cache + " is too small for chunk-size " + chunkSize
                    + "; use at least 8 chunks (" + Size.of(8 * c) + ")");
        }
        if (writebackThreads == null) writebackThreads = 8;
        if (writebackThreads < 1 || writebackThreads > 256) {
            throw new IllegalArgumentException("writeback-threads " + writebackThreads + " is out of range; use 1 to 256");
        }
        if (writebackDelayMs == null) writebackDelayMs = 500;
        if (writebackDelayMs < 0 || writebackDelayMs > 600_000) {
            throw new IllegalArgumentException("writeback-delay-ms " + writebackDelayMs + " is out of range; use 0 to 600000");
        }
        if (readAhead == null) readAhead = 4;
        if (readAhead < 0 || readAhead > 64) {
            throw new IllegalArgumentException("read-ahead " + readAhead + " is out of range; use 0 to 64");
        }
        codecs = codecs == null ? List.of() : List.copyOf(codecs);
    }
}
