package dev.ublkgateway.core.cli;

import dev.ublkgateway.core.config.DeviceConfig;
import dev.ublkgateway.core.config.GatewayConfig;
import dev.ublkgateway.core.runtime.DeviceState;
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

    static int start(GatewayConfig config, StateStore states, String... args) throws Exception {
        String name = config.devices().getFirst().name();
        Files.createDirectories(states.dir());
        Path log = states.logFile(name);
        List<String> cmd = new ArrayList<>();
        if (new File("/usr/bin/setsid").canExecute()) cmd.add("/usr/bin/setsid"); // keep terminal signals away
        cmd.add(ProcessHandle.current().info().command().orElse("java"));
        // the same JVM options as this process: native access, and the launcher's module setup for scripts
        cmd.addAll(java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments());
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(Main.class.getName());
        cmd.addAll(List.of(args));
        Main.pluginsDirArgument().ifPresent(dir -> cmd.addAll(List.of("--plugins-dir", dir)));
        if (args.length > 0 && args[0].equals("up") && dev.ublkgateway.core.chunk.ChunkedTargetProvider.forceTakeoverRequested()) {
            cmd.add("--force-takeover");
        }
        cmd.add("--foreground");
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.to(log.toFile())).redirectInput(ProcessBuilder.Redirect.PIPE).start();
        p.getOutputStream().close();
        long deadline = System.nanoTime() + 120_000_000_000L;
        while (System.nanoTime() < deadline) {
            if (!p.isAlive()) {
                System.err.println("ublk-gateway: " + lastLine(log) + " (log: " + log + ")");
                return 1;
            }
            if (allUp(config, states, p.pid())) {
                for (DeviceConfig d : config.devices()) {
                    System.out.println(d.name() + ": " + states.load(d.name()).orElseThrow().blockDevice());
                }
                System.out.println("gateway pid " + p.pid() + ", log " + log + "; stop with `ublk-gateway down NAME`");
                return 0;
            }
            Thread.sleep(50);
        }
        p.destroy();
        System.err.println("ublk-gateway: devices did not come up within 120 s (log: " + log + ")");
        return 1;
    }

    private static boolean allUp(GatewayConfig config, StateStore states, long pid) {
        for (DeviceConfig d : config.devices()) {
            Optional<DeviceState> s = states.load(d.name());
            if (s.isEmpty() || s.get().pid() != pid) return false;
        }
        return true;
    }

    private static String lastLine(Path log) {
        try {
            List<String> lines = Files.readAllLines(log);
            // A JVM that died on its own prints a block of "#" lines; its first sentence says why.
            for (String l : lines) {
                String t = l.replaceFirst("^#\\s*", "").strip();
                if (l.startsWith("#") && !t.isEmpty()) return "the gateway's JVM died: " + t;
            }
            for (int i = lines.size() - 1; i >= 0; i--) {
                String l = lines.get(i).strip();
                if (!l.isEmpty()) return l.startsWith("ublk-gateway: ") ? l.substring(14) : l;
            }
        } catch (Exception ignored) {
            // fall through
        }
        return "the gateway exited before its devices came up";
    }
}
