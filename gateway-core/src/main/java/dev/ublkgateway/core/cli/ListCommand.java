package dev.ublkgateway.core.cli;

import dev.ublkgateway.core.sys.Caller;
import dev.ublkgateway.core.runtime.DeviceState;
import dev.ublkgateway.core.runtime.StateStore;
import dev.ublkgateway.core.frontend.ublk.DataPath;
import dev.ublkgateway.core.frontend.ublk.Uapi;
import dev.ublkgateway.core.frontend.ublk.DevInfo;
import dev.ublkgateway.core.frontend.ublk.UblkControl;
import dev.ublkgateway.core.frontend.ublk.UblkException;
import dev.ublkgateway.core.frontend.ublk.Unprivileged;
import dev.ublkgateway.api.Errno;
import dev.ublkgateway.core.stats.StatsReport;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.File;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;

@Command(name = "list", description = "List ublk devices: the ones this gateway serves and any others the kernel has.",
        footerHeading = "%nJSON fields (--json: {\"devices\": [...]}, one object per row):%n",
        footer = {"  device (null for a ublk device no gateway here serves),",
                "  frontend (ublk|nbd), id (ublk device id; null over NBD),",
                "  block_device (/dev/ublkbN or the NBD URI), target,",
                "  size_bytes (null if unknown), state (as in the table: the kernel's state",
                "  of a ublk device, LIVE or gone over NBD), pid, queues (null if unknown),",
                "  data_path (ublk: copy, zero-copy or none, from the kernel's flags; null if unknown),",
                "  io_commands (ublk: batch with BATCH_IO, else per-request; null if unknown)"})
final class ListCommand implements Callable<Integer> {
    @Option(names = "--json", description = "print one JSON document (fields below) instead of a table")
    boolean json;

    @Override
    public Integer call() throws Exception {
        Map<Integer, DeviceState> byId = new TreeMap<>();
        StateStore states = StateStore.system();
        List<DeviceState> all = states.all();
        for (DeviceState s : all) if (!s.servedOverNbd()) byId.put(s.devId(), s);
        Map<Integer, DevInfo> kernel = new TreeMap<>();
        File[] nodes = new File("/dev").listFiles((d, n) -> n.matches("ublkc\\d+"));
        if (nodes != null && nodes.length > 0) readKernel(nodes, kernel);
        Table table = new Table(java.util.Set.of(1, 3), "NAME", "ID", "STATE", "PID", "DEVICE", "TARGET");
        List<Map<String, Object>> docs = new ArrayList<>();
        TreeMap<Integer, Boolean> ids = new TreeMap<>();
        byId.keySet().forEach(i -> ids.put(i, true));
        kernel.keySet().forEach(i -> ids.put(i, true));
        for (int id : ids.keySet()) {
            DeviceState s = byId.get(id);
            DevInfo k = kernel.get(id);
            String state = k != null ? k.stateName() : "gone";
            if (s != null && !StateStore.alive(s.pid()) && k != null) state += ",no-server";
            table.add(s != null ? s.name() : "-", id, state,
                    s != null ? (s.pid() > 0 ? (Object) s.pid() : "-") : (k != null && k.serverPid() > 0 ? k.serverPid() : "-"),
                    "/dev/ublkb" + id, s != null ? s.target() : "-");
            docs.add(ublkDocument(id, s, k, state));
        }
        for (Object[] row : nbdRows(all)) table.add(row);
        for (DeviceState s : all) {
            if (s.servedOverNbd() && s.name() != null) docs.add(StatsReport.device(s, StateStore.alive(s.pid()) ? "LIVE" : "gone"));
        }
        if (json) {
            System.out.println(StatsCommand.JSON.writerWithDefaultPrettyPrinter().writeValueAsString(Map.of("devices", docs)));
        } else {
            table.print(System.out);
        }
        return 0;
    }

    /**
     * What the kernel says of each device. Root reads them all; a non-root user those it may read (its
     * own, where the kernel has unprivileged devices); the others are left out with a note.
     */
    private static void readKernel(File[] nodes, Map<Integer, DevInfo> kernel) throws UblkException {
        boolean root = Caller.isRoot();
        UblkControl c;
        try {
            c = UblkControl.open();
        } catch (UblkException e) {
            if (root) throw e;
            // the control device is root's here; NBD devices (this user's run directory) are still listed
            System.err.println("ublk-gateway: note: ublk devices are not listed, reading them needs root or "
                    + "the ublk group (see README \"Unprivileged devices\"); run `sudo ublk-gateway list` for those");
            return;
        }
        try (c) {
            if (!root && Unprivileged.kernelRefusal(c.features()).isPresent()) {
                System.err.println("ublk-gateway: note: ublk devices are not listed, this kernel lets only root read "
                        + "them; run `sudo ublk-gateway list` for those");
                return;
            }
            int others = 0;
            for (File n : nodes) {
                int id = Integer.parseInt(n.getName().substring(5));
                try {
                    kernel.put(id, c.devInfo(id));
                } catch (UblkException e) {
                    // vanished meanwhile, or (not root) another user's
                    if (!root && (e.errno() == Errno.EACCES || e.errno() == Errno.EPERM)) others++;
                }
            }
            if (others > 0) {
                System.err.println("ublk-gateway: note: " + others + " ublk device(s) of other users are not listed; "
                        + "run `sudo ublk-gateway list` for those");
            }
        }
    }

    /** A ublk device's row as JSON: what its state file says, else what the kernel says. */
    static Map<String, Object> ublkDocument(int id, DeviceState s, DevInfo k, String state) {
        Map<String, Object> m;
        if (s != null) {
            m = StatsReport.device(s, state);
        } else {
            m = new LinkedHashMap<>();
            m.put("device", null);
            m.put("frontend", "ublk");
            m.put("id", id);
            m.put("block_device", "/dev/ublkb" + id);
            m.put("target", null);
            m.put("size_bytes", null);
            m.put("state", state);
            m.put("pid", k != null && k.serverPid() > 0 ? k.serverPid() : null);
            m.put("queues", k != null ? k.nrHwQueues() : null);
        }
        m.put("block_device", "/dev/ublkb" + id);
        m.put("data_path", k != null ? dataPathName(DataPath.of(k.flags())) : null);
        m.put("io_commands", k == null ? null : (k.flags() & Uapi.F_BATCH_IO) != 0 ? "batch" : "per-request");
        return m;
    }

    /** The data path as the JSON names it. */
    static String dataPathName(DataPath p) {
        return switch (p) {
            case COPY -> "copy";
            case NONE -> "none";
            case ZERO_COPY -> "zero-copy";
        };
    }

    /** The rows of the NBD devices: name, "nbd", state, pid, URI, target. */
    private static List<Object[]> nbdRows(List<DeviceState> states) {
        List<Object[]> rows = new java.util.ArrayList<>();
        for (DeviceState s : states) {
            if (!s.servedOverNbd() || s.name() == null) continue;
            String state = StateStore.alive(s.pid()) ? "LIVE" : "gone";
            rows.add(new Object[] {s.name(), "nbd", state, s.pid(), s.blockDevice(), s.target()});
        }
        return rows;
    }
}
