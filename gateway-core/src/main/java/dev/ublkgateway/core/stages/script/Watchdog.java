package dev.ublkgateway.core.stages.script;

import org.graalvm.polyglot.Context;

import java.time.Duration;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.LockSupport;

/**
 * Enforces the time budget of calls into scripts. A caller arms its {@link Guard} before a call and
 * disarms it after; one daemon thread for the whole process interrupts the context of a guard whose
 * deadline passed. The interrupted call throws, and the context stays usable for the next call.
 */
final class Watchdog {
    private static final CopyOnWriteArrayList<Guard> GUARDS = new CopyOnWriteArrayList<>();
    private static volatile long periodNanos = 5_000_000L;
    private static Thread thread;

    private Watchdog() {}

    /**
     * The budget of the first call of each hook in a context: the engine compiles the hook then, which
     * on a loaded machine takes far longer than a warm call of a trivial hook.
     */
    static final long FIRST_CALL_BUDGET_NANOS = 5_000_000_000L;

    /** A context's guard; arm and disarm it on the thread that calls the context. */
    static final class Guard implements AutoCloseable {
        /** Hooks, for {@link #armCall}. */
        static final int REQUEST = 0, FLUSH = 1, TICK = 2, ATTACH = 3, DETACH = 4;

        private final Context context;
        final long budgetNanos;
        private volatile long deadline; // 0 = no call running
        private volatile boolean fired;
        private int called; // one bit per hook that has been called in this context

        /** Arms for a call of {@code hook}: its first call gets {@link #FIRST_CALL_BUDGET_NANOS} at least. */
        void armCall(int hook) {
            int bit = 1 << hook;
            if ((called & bit) != 0) {
                arm();
            } else {
                called |= bit;
                arm(Math.max(budgetNanos, FIRST_CALL_BUDGET_NANOS));
            }
        }

        private Guard(Context context, long budgetNanos) {
            this.context = context;
            this.budgetNanos = budgetNanos;
        }

        private long armedBudget;

        void arm() {
            arm(budgetNanos);
        }

        void arm(long budget) {
            fired = false;
            armedBudget = budget;
            deadline = System.nanoTime() + budget;
        }

        /** The budget of the last call (the first call of a hook has a larger one). */
        long armedBudgetNanos() {
            return armedBudget;
        }

        void disarm() {
            deadline = 0;
        }

        /** True when the last call was stopped for running over its budget. */
        boolean fired() {
            return fired;
        }

        @Override
        public void close() {
            deadline = 0;
            GUARDS.remove(this);
        }

        private void check(long now, long stall) {
            long d = deadline;
            if (d != 0 && stall > 0) {
                // the whole process stood still (GC, safepoint, host stall): that time is not the script's
                if (DEADLINE.compareAndSet(this, d, d + stall)) d += stall;
                else return;
            }
            if (d != 0 && now - d > 0) {
                fired = true;
                deadline = 0;
                try {
                    context.interrupt(Duration.ofMillis(500));
                } catch (TimeoutException | RuntimeException e) {
                    // the call ended meanwhile, or the context is closing: nothing left to stop
                }
            }
        }
    }

    static Guard guard(Context context, long budgetNanos) {
        Guard g = new Guard(context, budgetNanos);
        GUARDS.add(g);
        synchronized (Watchdog.class) {
            // check a few times per budget, at least every 50 ms, never more often than every 1 ms
            long p = Math.max(1_000_000L, Math.min(50_000_000L, budgetNanos / 4));
            if (p < periodNanos) periodNanos = p;
            if (thread == null) {
                thread = Thread.ofPlatform().daemon().name("script-watchdog").start(Watchdog::run);
            }
        }
        return g;
    }

    private static void run() {
        long last = System.nanoTime();
        while (true) {
            long period = periodNanos;
            LockSupport.parkNanos(period);
            long now = System.nanoTime();
            // when this thread woke much later than asked, everything was paused: extend the deadlines
            long stall = Math.max(0, now - last - period - 1_000_000L);
            last = now;
            for (Guard g : GUARDS) g.check(now, stall);
        }
    }

    private static final java.lang.invoke.VarHandle DEADLINE;
    static {
        try {
            DEADLINE = java.lang.invoke.MethodHandles.lookup().findVarHandle(Guard.class, "deadline", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }
}
