package dev.ublkgateway.plugins.s3.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A TCP proxy in front of an S3 server that answers the first request of some connections itself
 * with an error status (503 SlowDown, 500 InternalError...), as a throttled or failing S3 would,
 * and passes the others through unchanged but for "Connection: close" (so signatures stay valid).
 */
public final class FaultyProxy implements AutoCloseable {
    private final ServerSocket server;
    private final int upstreamPort;
    private final AtomicInteger faultsLeft = new AtomicInteger();
    private final AtomicInteger injected = new AtomicInteger();
    private volatile String method = "PUT";
    private volatile int status = 503;
    private volatile String code = "SlowDown";

    public FaultyProxy(int upstreamPort) throws IOException {
        this.upstreamPort = upstreamPort;
        this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread.ofPlatform().daemon().name("faulty-proxy").start(this::accept);
    }

    public String endpoint() {
        return "http://127.0.0.1:" + server.getLocalPort();
    }

    /** The next {@code count} requests with this method get {@code status} with S3 error {@code code}. */
    public void fail(String method, int count, int status, String code) {
        this.method = method;
        this.status = status;
        this.code = code;
        faultsLeft.set(count);
    }

    public int injected() {
        return injected.get();
    }

    private void accept() {
        while (!server.isClosed()) {
            try {
                Socket client = server.accept();
                Thread.ofVirtual().start(() -> serve(client));
            } catch (IOException e) {
                return;
            }
        }
    }

    private void serve(Socket client) {
        try (client; Socket up = new Socket(InetAddress.getLoopbackAddress(), upstreamPort)) {
            InputStream in = client.getInputStream();
            byte[] head = readHead(in);
            if (head == null) return;
            String text = new String(head, StandardCharsets.ISO_8859_1);
            if (text.startsWith(method + " ") && faultsLeft.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
                answerWithError(client, text);
                return;
            }
            OutputStream upOut = up.getOutputStream();
            upOut.write(oneRequestOnly(text).getBytes(StandardCharsets.ISO_8859_1));
            upOut.flush();
            Thread back = Thread.ofVirtual().start(() -> pipe(up, client));
            pipe(client, up);
            back.join();
        } catch (IOException | InterruptedException e) {
            // a connection the client or server dropped
        }
    }

    private void answerWithError(Socket client, String head) throws IOException {
        // read the body unless the client waits for 100-continue (answering first is allowed then)
        long length = 0;
        boolean expectContinue = false;
        for (String line : head.split("\r\n")) {
            String l = line.toLowerCase(Locale.ROOT);
            if (l.startsWith("content-length:")) length = Long.parseLong(l.substring(15).trim());
            if (l.startsWith("expect:") && l.contains("100-continue")) expectContinue = true;
        }
        if (!expectContinue) client.getInputStream().skipNBytes(length);
        byte[] body = ("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>" + code + "</Code><Message>injected by the test"
                + "</Message><RequestId>test</RequestId></Error>").getBytes(StandardCharsets.UTF_8);
        String reply = "HTTP/1.1 " + status + " " + code + "\r\nContent-Type: application/xml\r\nContent-Length: "
                + body.length + "\r\nConnection: close\r\n\r\n";
        OutputStream out = client.getOutputStream();
        out.write(reply.getBytes(StandardCharsets.ISO_8859_1));
        out.write(body);
        out.flush();
        injected.incrementAndGet();
    }

    /**
     * The head with "Connection: close" (not covered by the request signature), so every request
     * comes on a connection of its own and each one can be intercepted.
     */
    private static String oneRequestOnly(String head) {
        StringBuilder b = new StringBuilder();
        for (String line : head.substring(0, head.length() - 4).split("\r\n")) {
            if (!line.toLowerCase(Locale.ROOT).startsWith("connection:")) b.append(line).append("\r\n");
        }
        return b.append("Connection: close\r\n\r\n").toString();
    }

    /** The request line and headers, through the blank line; null at end of stream. */
    private static byte[] readHead(InputStream in) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        int state = 0, c;
        while ((c = in.read()) >= 0) {
            b.write(c);
            state = (c == '\r' && (state == 0 || state == 2)) ? state + 1 : (c == '\n' && (state == 1 || state == 3)) ? state + 1 : 0;
            if (state == 4) return b.toByteArray();
        }
        return null;
    }

    private static void pipe(Socket from, Socket to) {
        try {
            from.getInputStream().transferTo(to.getOutputStream());
            to.shutdownOutput();
        } catch (IOException e) {
            // closed
        }
    }

    @Override
    public void close() throws IOException {
        server.close();
    }
}
