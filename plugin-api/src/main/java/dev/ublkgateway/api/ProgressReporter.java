package dev.ublkgateway.api;

/**
 * Where a target publishes the progress of its long operations (a flush of much data, a recovery, a large
 * discard), so that the gateway's command line can show them. Handed to a target through
 * {@link ProviderContext#progress()}. Calls are cheap but not free: report from the code that does the
 * work (a chunk stored, an object deleted), never from the per-request path. Since API 1.6.
 */
public interface ProgressReporter {
    /** Operation names the command line knows; others are shown as they are. */
    String FLUSH = "flush", RECOVERY = "recovery", CACHE_DRAIN = "cache-drain", DISCARD = "discard";

    /** A reporter that publishes nothing: for gateways older than API 1.6, and for tests. */
    ProgressReporter NONE = (operation, totalBytes) -> Progress.NONE;

    /**
     * Starts one operation of {@code totalBytes} (0 when not known yet). The returned handle is safe to
     * use from several threads; end it with {@link Progress#done} or {@link Progress#failed}.
     */
    Progress start(String operation, long totalBytes);

    /** The progress of one running operation. */
    interface Progress {
        Progress NONE = new Progress() {
            public void advance(long bytes) {}
            public void total(long bytes) {}
            public void done() {}
            public void failed(String message) {}
        };

        /** {@code bytes} more are done. */
        void advance(long bytes);

        /** The operation turned out to have {@code bytes} in all (e.g. data written while it ran). */
        void total(long bytes);

        /** The operation ended well. */
        void done();

        /** The operation ended with {@code message} (one line: what could not be done and why). */
        void failed(String message);
    }
}
