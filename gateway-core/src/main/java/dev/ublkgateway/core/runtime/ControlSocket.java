package dev.ublkgateway.core.runtime;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.logging.Logger;

/**
 * A serving gateway's control channel: a Unix socket ({@code NAME.ctl} in the run directory, mode 0600)
 * through which other commands ask the gateway to act on a device it serves. One request per connection,
 * both ways one line of UTF-8: the request is words separated by spaces (e.g. {@code resize 2147483648});
 * the answer starts with {@code ok } or {@code error } followed by a message for the user.
 */
public final class ControlSocket implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(ControlSocket.class.getName());
    /** The longest request or answer line, in bytes: a request is a command and a few words. */
    static final int MAX_LINE = 4096;
    public static final String OK = "ok ", ERROR = "error ";

    /** Answers one request line; an exception's message becomes the {@code error} answer. */
    @FunctionalInterface
    public interface Handler {
        String handle(String request) throws Exception;
    }

    private final Path path;
    private final ServerSocketChannel server;
    private final Thread acceptor;

    private ControlSocket(Path path, ServerSocketChannel server, Handler handler) {
        this.path = path;
        this.server = server;
        // platform threads: a virtual one would start the JVM's virtual-thread scheduler, whose idle
        // workers spin on every wake-up (costly under emulation), in gateways that need none of it
        this.acceptor = Thread.ofPlatform().daemon().name("control " + path.getFileName()).start(() -> acceptLoop(handler));
    }

    /**
     * Listens at {@code path}, replacing a socket a dead gateway left there. Bound under a temporary name
     * and made 0600 before it is renamed into place, so nobody else can ever connect to it.
     */
    public static ControlSocket listen(Path path, Handler handler) throws IOException {
        Path tmp = path.resolveSibling("." + path.getFileName() + "." + ProcessHandle.current().pid());
        Files.deleteIfExists(tmp);
        ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        try {
            server.bind(UnixDomainSocketAddress.of(tmp));
            Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-------"));
            Files.move(tmp, path, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException | RuntimeException e) {
            server.close();
            Files.deleteIfExists(tmp);
            throw e;
        }
        return new ControlSocket(path, server, handler);
    }

    public Path path() {
        return path;
    }

    private void acceptLoop(Handler handler) {
        while (server.isOpen()) {
            SocketChannel c;
            try {
                c = server.accept();
            } catch (IOException e) {
                if (server.isOpen()) LOG.warning("control socket " + path + ": " + e.getMessage());
                return;
            }
            Thread.ofPlatform().daemon().name("control request").start(() -> serve(c, handler));
        }
    }

    private static void serve(SocketChannel c, Handler handler) {
        try (c) {
            String request = readLine(c);
            String answer;
            if (request == null) {
                answer = ERROR + "the request is not one line of at most " + MAX_LINE + " bytes";
            } else {
                try {
                    answer = OK + oneLine(handler.handle(request.strip()));
                } catch (Exception e) {
                    answer = ERROR + oneLine(e.getMessage() == null ? e.toString() : e.getMessage());
                }
            }
            writeLine(c, answer);
        } catch (IOException e) {
            LOG.fine("control connection: " + e.getMessage()); // the client went away
        }
    }

    /**
     * Sends one request to the gateway listening at {@code path} and returns its answer line ({@code ok ...}
     * or {@code error ...}). Waits as long as the gateway works on it; a gateway that dies meanwhile closes
     * the connection, which throws.
     */
    public static String request(Path path, String request) throws IOException {
        try (SocketChannel c = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            c.connect(UnixDomainSocketAddress.of(path));
            writeLine(c, oneLine(request));
            String answer = readLine(c);
            if (answer == null) throw new IOException("the gateway closed its control socket " + path + " without an answer");
            return answer;
        }
    }

    /** Reads up to the first newline; null on end of stream before one or a line that is too long. */
    private static String readLine(SocketChannel c) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(MAX_LINE + 1);
        while (b.hasRemaining()) {
            int before = b.position();
            if (c.read(b) < 0) return null;
            for (int i = before; i < b.position(); i++) {
                if (b.get(i) == '\n') return new String(b.array(), 0, i, StandardCharsets.UTF_8);
            }
        }
        return null;
    }

    private static void writeLine(SocketChannel c, String line) throws IOException {
        ByteBuffer b = ByteBuffer.wrap((line + "\n").getBytes(StandardCharsets.UTF_8));
        while (b.hasRemaining()) c.write(b);
    }

    private static String oneLine(String s) {
        return s.replace('\n', ' ').replace('\r', ' ');
    }

    /** Stops listening and removes the socket file (only if it is still ours). */
    @Override
    public void close() {
        try {
            server.close();
        } catch (IOException ignored) {
            // closing
        }
        acceptor.interrupt();
        try {
            Files.deleteIfExists(path);
        } catch (IOException e) {
            LOG.fine("removing " + path + ": " + e.getMessage());
        }
    }
}
