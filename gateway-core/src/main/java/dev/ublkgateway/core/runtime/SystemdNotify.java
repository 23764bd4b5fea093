package dev.ublkgateway.core.runtime;

import dev.ublkgateway.core.sys.Libc;
import dev.ublkgateway.core.sys.NativeException;
import dev.ublkgateway.core.sys.Sockets;

import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.logging.Logger;

/**
 * The sd_notify protocol without libsystemd: one datagram per state change to $NOTIFY_SOCKET (READY=1,
 * STATUS=..., STOPPING=1) and WATCHDOG=1 pings at half of $WATCHDOG_USEC. Without NOTIFY_SOCKET (not
 * started by systemd as Type=notify) every call does nothing.
 */
public final class SystemdNotify implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(SystemdNotify.class.getName());

    private final String socket;
    private final long watchdogMicros;
    private final CountDownLatch closed = new CountDownLatch(1);
    private volatile boolean stopping;

    private SystemdNotify(String socket, long watchdogMicros) {
        this.socket = socket;
        this.watchdogMicros = watchdogMicros;
    }

    /** From this process's environment. */
    public static SystemdNotify fromEnvironment() {
        return from(System.getenv(), Libc.getpid());
    }

    /**
     * From {@code env} as seen by process {@code pid}: the watchdog is ours only when WATCHDOG_PID is
     * unset or names us (a child the service forks must not feed its parent's watchdog).
     */
    static SystemdNotify from(Map<String, String> env, int pid) {
        String socket = env.get("NOTIFY_SOCKET");
        if (socket != null && socket.isEmpty()) socket = null;
        long usec = 0;
        String watchdogPid = env.get("WATCHDOG_PID");
        if (watchdogPid == null || watchdogPid.strip().equals(Integer.toString(pid))) {
            try {
                usec = Long.parseLong(env.getOrDefault("WATCHDOG_USEC", "0").strip());
            } catch (NumberFormatException e) {
                LOG.warning("WATCHDOG_USEC=" + env.get("WATCHDOG_USEC") + " is not a number; no watchdog pings");
            }
        }
        return new SystemdNotify(socket, Math.max(0, usec));
    }

    public boolean enabled() {
        return socket != null;
    }

    /** The watchdog interval systemd asked for, in microseconds; 0 when there is none. */
    public long watchdogMicros() {
        return socket == null ? 0 : watchdogMicros;
    }

    /** Every device serves: READY=1 with a status line, then the watchdog pings begin. */
    public void ready(String status) {
        send("READY=1\nSTATUS=" + status + "\nMAINPID=" + Libc.getpid());
        if (watchdogMicros() > 0) startWatchdog();
    }

    /** Shutting down (sent once, whoever asks first); the watchdog pings end. */
    public synchronized void stopping() {
        if (stopping) return;
        stopping = true;
        send("STOPPING=1");
        closed.countDown();
    }

    /**
     * This process ends, and {@code pid} (a successor it handed its work to, in the same unit) is the
     * service's main process from now on: MAINPID=, no STOPPING=1, and the watchdog pings end.
     */
    public synchronized void handOff(long pid) {
        if (stopping) return;
        stopping = true;
        send("MAINPID=" + pid);
        closed.countDown();
    }

    /** Sends {@code message} as is; false when there is no socket or sending failed (logged, never fatal). */
    public boolean send(String message) {
        if (socket == null) return false;
        try {
            Sockets.sendDatagram(socket, message.getBytes(StandardCharsets.UTF_8));
            return true;
        } catch (NativeException | IllegalArgumentException e) {
            LOG.warning("cannot notify systemd at NOTIFY_SOCKET=" + socket + ": " + e.getMessage());
            return false;
        }
    }

    private void startWatchdog() {
        long periodMicros = Math.max(1, watchdogMicros / 2);
        Thread.ofPlatform().daemon().name("systemd-watchdog").start(() -> {
            try {
                do {
                    send("WATCHDOG=1");
                } while (!closed.await(periodMicros, TimeUnit.MICROSECONDS));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
    }

    /** Ends the watchdog pings without telling systemd anything. */
    @Override
    public void close() {
        closed.countDown();
    }
}
