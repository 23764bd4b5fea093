package dev.ublkgateway.core.chain;

import dev.ublkgateway.api.BlockRequest;

import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Finishes held requests later, for stages that delay them (rate limits, injected delays, script
 * delays): one daemon timer thread for the whole gateway, so a delayed request never stalls its
 * queue's thread and the other requests on that queue keep flowing.
 */
public final class Delays {
    private static final Logger LOG = Logger.getLogger(Delays.class.getName());
    private static final ScheduledThreadPoolExecutor TIMER = new ScheduledThreadPoolExecutor(1, r -> {
        Thread t = new Thread(r, "ublk-gateway-delays");
        t.setDaemon(true);
        return t;
    });

    static {
        TIMER.setRemoveOnCancelPolicy(true);
    }

    private Delays() {}

    /** Resumes a request the calling stage holds (returned PENDING for without calling next) after {@code nanos}. */
    public static void resumeAfter(BlockRequest request, long nanos) {
        TIMER.schedule(() -> run(request, true, 0), nanos, TimeUnit.NANOSECONDS);
    }

    /** Completes a request the calling stage holds with {@code result} after {@code nanos}. */
    public static void completeAfter(BlockRequest request, long nanos, int result) {
        TIMER.schedule(() -> run(request, false, result), nanos, TimeUnit.NANOSECONDS);
    }

    private static void run(BlockRequest request, boolean resume, int result) {
        try {
            if (resume) request.resume();
            else request.complete(result);
        } catch (RuntimeException e) {
            // the timer thread must survive a frontend's failure; the request's owner logs its own side
            LOG.log(Level.SEVERE, "delayed request tag " + request.tag() + " could not be "
                    + (resume ? "resumed" : "completed") + ": " + e, e);
        }
    }
}
