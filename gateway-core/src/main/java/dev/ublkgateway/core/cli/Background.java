package dev.ublkgateway.core.cli;

import dev.ublkgateway.core.config.DeviceConfig;
import dev.ublkgateway.core.config.GatewayConfig;
import dev.ublkgateway.core.frontend.ublk.UblkException;
import dev.ublkgateway.core.runtime.DeviceState;
import dev.ublkgateway.core.runtime.Reload;
import dev.ublkgateway.core.runtime.StateStore;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Runs `up`/`recover` as a detached child process (the JVM cannot fork itself) and waits until it
 * reports every device, or fails: then its log's last line is the error.
 */
final class Background {
    private Background() {}

    /** How long a background gateway may take to start (and as long as it shows progress, more). */
    static final long START_SECONDS = 120;

    /** A gateway process started in the background, and its log. */
    record Launched(Process process, Path log) {}

    static int start(GatewayConfig config, StateStore states, String... args) throws Exception {
        return awaitUp(config, states, launch(config, states, false, args));
    }

    /**
     * Starts a gateway running {@code args} in the foreground, detached, its output in the log named after
     * the file's first device ({@code append}: after what that log has, e.g. the gateway it takes over from).
     */
    static Launched launch(GatewayConfig config, StateStore states, boolean append, String... args) throws Exception {
        String name = config.devices().getFirst().name();
        Files.createDirectories(states.dir());
        Path log = states.logFile(name);
        List<String> cmd = new ArrayList<>();
        if (new File("/usr/bin/setsid").canExecute()) cmd.add("/usr/bin/setsid"); // keep terminal signals away
        cmd.addAll(gatewayCommand(states, name, args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(append ? ProcessBuilder.Redirect.appendTo(log.toFile()) : ProcessBuilder.Redirect.to(log.toFile()))
                .redirectInput(ProcessBuilder.Redirect.PIPE).start();
        p.getOutputStream().close();
        linkLog(config, states, log);
        return new Launched(p, log);
    }

    /** Waits until the launched gateway serves every device of {@code config}, or fails: then its log's last line is the error. */
    static int awaitUp(GatewayConfig config, StateStore states, Launched launched) throws Exception {
        Process p = launched.process();
        Path log = launched.log();
        long deadline = System.nanoTime() + START_SECONDS * 1_000_000_000L;
        // what the new gateway does before its devices serve (a recovery, a cache drain), as bars
        List<String> names = config.devices().stream().map(DeviceConfig::name).toList();
        long since = System.currentTimeMillis();
        OperationWatch work = new OperationWatch(states.dir(), op -> op.startedAt() >= since, Progress::onStdout);
        while (System.nanoTime() < deadline) {
            if (work.poll(names)) deadline = Math.max(deadline, System.nanoTime() + START_SECONDS * 1_000_000_000L); // still working
            if (!p.isAlive()) {
                work.finishAll();
                System.err.println("ublk-gateway: " + lastLine(log) + " (log: " + log + ")");
                return 1;
            }
            if (allUp(config, states, p.pid())) {
                work.poll(names);
                work.finishAll();
                for (DeviceConfig d : config.devices()) {
                    System.out.println(d.name() + ": " + states.load(d.name()).orElseThrow().blockDevice());
                }
                System.out.println("gateway pid " + p.pid() + ", log " + log + "; stop with `ublk-gateway down NAME`");
                return 0;
            }
            Thread.sleep(50);
        }
        p.destroy();
        System.err.println("ublk-gateway: devices did not come up within " + START_SECONDS + " s (log: " + log + ")");
        return 1;
    }

    /**
     * Waits until a successor started to take devices over from gateway {@code from} says it is prepared
     * (started, its configuration read); {@code why} turns its early end (exit status) into the error.
     */
    static void awaitPrepared(Path dir, long from, Process successor, long seconds,
                              java.util.function.IntFunction<String> why) throws Exception {
        long deadline = System.nanoTime() + seconds * 1_000_000_000L;
        while (Reload.preparedSuccessor(dir, from).orElse(-1) != successor.pid()) {
            if (!successor.isAlive()) throw new UblkException(why.apply(successor.exitValue()));
            if (System.nanoTime() > deadline) {
                throw new UblkException("the new gateway was not ready within " + seconds
                        + " s; nothing changed");
            }
            Thread.sleep(50);
        }
    }

    /**
     * The command line of a gateway process running {@code args} in the foreground: this JVM, with this
     * process's options (native access, the launcher's module setup for scripts) and class path.
     */
    static List<String> gatewayCommand(StateStore states, String name, String... args) {
        List<String> cmd = new ArrayList<>();
        cmd.add(ProcessHandle.current().info().command().orElse("java"));
        List<String> jvmArgs = java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments();
        cmd.addAll(jvmArgs);
        // a JVM that dies writes its crash report beside the log (by default: the working directory,
        // or /tmp when that is not writable), unless the user chose a place
        if (jvmArgs.stream().noneMatch(a -> a.startsWith("-XX:ErrorFile="))) {
            cmd.add("-XX:ErrorFile=" + states.dir().resolve(name + ".hs_err_pid%p.log"));
        }
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(Main.class.getName());
        cmd.addAll(List.of(args));
        Main.pluginsDirArgument().ifPresent(dir -> cmd.addAll(List.of("--plugins-dir", dir)));
        cmd.add("--foreground");
        return cmd;
    }

    /**
     * One gateway serves the file's devices and writes one log, named after the first device; every
     * other device's log name links to it, so `down` and users find it under any of the names.
     */
    private static void linkLog(GatewayConfig config, StateStore states, Path log) throws java.io.IOException {
        for (DeviceConfig d : config.devices().subList(1, config.devices().size())) {
            Path link = states.logFile(d.name());
            Files.deleteIfExists(link);
            Files.createSymbolicLink(link, log.getFileName());
        }
    }

    /** Every device of {@code config} is served by process {@code pid}. */
    static boolean allUp(GatewayConfig config, StateStore states, long pid) {
        for (DeviceConfig d : config.devices()) {
            Optional<DeviceState> s = states.load(d.name());
            if (s.isEmpty() || s.get().pid() != pid) return false;
        }
        return true;
    }

    /** The one-line reason a gateway that exited early gives, from its log. */
    static String lastLine(Path log) {
        try {
            List<String> lines = Files.readAllLines(log);
            // A JVM that died on its own prints a block of "#" lines: what happened (a signal or an
            // internal error), the problematic frame, and the path of its crash report.
            String died = jvmDeath(lines);
            if (died != null) return "the gateway's JVM died: " + died;
            for (int i = lines.size() - 1; i >= 0; i--) {
                String l = lines.get(i).strip();
                if (!l.isEmpty()) return l.startsWith("ublk-gateway: ") ? l.substring(14) : l;
            }
        } catch (Exception ignored) {
            // fall through
        }
        return "the gateway exited before its devices came up";
    }

    /** "SIGSEGV (0xb) at pc=... in FRAME; crash report: PATH" from a fatal-error block, or null. */
    static String jvmDeath(List<String> lines) {
        List<String> block = lines.stream().filter(l -> l.startsWith("#"))
                .map(l -> l.replaceFirst("^#\\s*", "").strip()).toList();
        String what = null, frame = null, report = null;
        for (int i = 0; i < block.size(); i++) {
            String t = block.get(i);
            String next = i + 1 < block.size() ? block.get(i + 1) : "";
            if (what == null && t.startsWith("A fatal error has been detected")) {
                for (int j = i + 1; j < block.size() && what == null; j++) {
                    if (!block.get(j).isEmpty()) what = block.get(j);
                }
            } else if (t.equals("Problematic frame:") && !next.isEmpty()) {
                frame = next.replaceAll("\\s+", " ");
            } else if (t.startsWith("An error report file with more information is saved as") && !next.isEmpty()) {
                report = next;
            }
        }
        if (what == null) {
            // some other block of "#" lines (e.g. out of memory): its first sentence says why
            what = block.stream().filter(t -> !t.isEmpty()).findFirst().orElse(null);
            if (what == null) return null;
        }
        return what + (frame == null ? "" : " in " + frame) + (report == null ? "" : "; crash report: " + report);
    }
}
