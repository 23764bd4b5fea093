package dev.ublkgateway.core.cli;

import dev.ublkgateway.api.Size;
import dev.ublkgateway.core.frontend.ublk.UblkException;
import dev.ublkgateway.core.runtime.ControlSocket;
import dev.ublkgateway.core.runtime.DeviceState;
import dev.ublkgateway.core.runtime.StateStore;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.net.SocketException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;

@Command(name = "resize", description = "Change a running device's size: its gateway grows the target, then the "
        + "device (ublk needs Linux with UPDATE_SIZE; NBD clients connected already keep their size). Shrinking "
        + "discards the data beyond the new end and needs --shrink (memory, file and null targets only).")
final class ResizeCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "NAME|ID", description = "the device, by name or ublk id")
    String device;

    @Parameters(index = "1", paramLabel = "SIZE", description = "the new size, e.g. 20GiB (a multiple of the block size)")
    String size;

    @Option(names = "--shrink", description = "allow a smaller size; the data beyond it is lost")
    boolean shrink;

    @Override
    public Integer call() throws Exception {
        long bytes = parseSize(size);
        StateStore states = StateStore.system();
        DeviceState s = states.find(device).orElseThrow(() -> new UblkException("no device named " + device
                + " is up; see `ublk-gateway list`"));
        if (!StateStore.alive(s.pid())) {
            throw new UblkException("device " + s.name() + " has no running gateway (pid " + s.pid() + " is gone); run `ublk-gateway recover "
                    + s.name() + "` first");
        }
        if (!s.servedOverNbd()) Common.requireRoot("resize");
        String answer = ask(states.controlSocket(s.name()), s, "resize " + bytes + (shrink ? " shrink" : ""));
        if (answer.startsWith(ControlSocket.OK)) {
            System.out.println(answer.substring(ControlSocket.OK.length()));
            return 0;
        }
        String why = answer.startsWith(ControlSocket.ERROR) ? answer.substring(ControlSocket.ERROR.length()) : answer;
        throw new UblkException(s.name() + ": " + why);
    }

    /** A size: a positive whole number of bytes, with or without a unit. */
    static long parseSize(String text) throws UblkException {
        long b;
        try {
            b = Size.parse(text).bytes();
        } catch (IllegalArgumentException e) {
            throw new UblkException(e.getMessage());
        }
        if (b <= 0) throw new UblkException("size " + text + " is not positive; e.g. 20GiB");
        return b;
    }

    private static String ask(Path socket, DeviceState s, String request) throws UblkException {
        if (!Files.exists(socket)) {
            throw new UblkException("the gateway serving " + s.name() + " (pid " + s.pid() + ") has no control socket " + socket
                    + "; it is older than resize or could not create it (see its log): restart it to resize online");
        }
        try {
            return ControlSocket.request(socket, request);
        } catch (SocketException e) {
            String m = String.valueOf(e.getMessage());
            if (m.contains("ermission denied")) {
                throw new UblkException("permission denied on " + socket + "; run as the user that runs the gateway (pid "
                        + s.pid() + ")");
            }
            throw new UblkException("cannot reach the gateway of " + s.name() + " at " + socket + ": " + m);
        } catch (IOException e) {
            throw new UblkException("cannot reach the gateway of " + s.name() + " at " + socket + ": " + e.getMessage());
        }
    }
}
